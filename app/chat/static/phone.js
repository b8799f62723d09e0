// On a narrow screen (a phone) the sources column sits far below the answer: a tapped
// citation opens its source card in a sheet over the answer instead, its span marked,
// and Close (or Escape) goes back to where the reader was. Runs before chat.js's
// handler (window, capture), which it stops on a narrow screen only.
(function () {
  const NARROW = window.matchMedia('(max-width: 760px)');
  function sheet() {
    let found = document.getElementById('cite-sheet');
    if (found) return found;
    found = document.createElement('dialog');
    found.id = 'cite-sheet';
    found.setAttribute('aria-labelledby', 'cite-sheet-title');
    found.innerHTML = '<div class="sheet-bar"><b id="cite-sheet-title">Source</b>' +
      '<button type="button" class="sheet-close">Close</button></div><div class="sheet-body"></div>';
    found.querySelector('.sheet-close').addEventListener('click', function () { found.close(); });
    document.body.appendChild(found);
    return found;
  }
  window.addEventListener('click', function (event) {
    if (!NARROW.matches) return;
    const link = event.target.closest && event.target.closest('#chat a.cite, #chat a.source-link');
    if (!link || !link.getAttribute('href')) return;
    const id = link.getAttribute('href').slice(1);
    // cite-<turn>-<sentence>-<source>, or a reasoning step's src-<turn>-<source>
    const parts = id.split('-');
    if (parts[0] === 'src') parts.splice(2, 0, '');
    const card = document.getElementById('src-' + parts[1] + '-' + parts[3]);
    if (!card) return;  // chat.js's handler does what it can
    event.preventDefault();
    event.stopPropagation();
    const copy = card.cloneNode(true);
    // The copy keeps no ids (the page's stay unique); its span of this citation is marked.
    copy.removeAttribute('id');
    copy.querySelectorAll('[id]').forEach(function (el) { el.removeAttribute('id'); });
    copy.classList.add('active');
    const shown = sheet();
    shown.querySelector('#cite-sheet-title').textContent = 'Source ' + parts[3];
    const body = shown.querySelector('.sheet-body');
    body.replaceChildren(copy);
    shown.showModal();
    const mark = copy.querySelector('mark[data-cites~="' + id + '"]');
    if (mark) {
      mark.classList.add('active');
      mark.scrollIntoView({block: 'center'});
    }
  }, true);
})();
