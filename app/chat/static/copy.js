// "Copy citation" on a source card (actions.py): the citation the button carries goes
// on the clipboard, and the card's aria-live status says so, or why it did not. The
// clipboard API needs a secure context (https, or this machine); elsewhere a selected
// textarea and execCommand('copy') do it. Delegated, so cards added later (and the
// phone's copy of a card in its sheet) work without binding anything.
(function () {
  function say(button, text, ok) {
    const actions = button.closest('.source-actions');
    const status = actions && actions.querySelector('.copy-status');
    if (!status) return;
    status.textContent = '';  // the same words again are announced again
    status.classList.toggle('copy-failed', !ok);
    window.setTimeout(function () { status.textContent = text; }, 30);
  }
  function byTextarea(text, button) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.setAttribute('aria-hidden', 'true');
    area.style.position = 'fixed';
    area.style.top = '-1000px';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
    area.remove();
    button.focus();
    return copied;
  }
  function done(button, copied) {
    say(button, copied ? 'Citation copied'
      : 'Could not copy the citation: this browser refused the clipboard', copied);
  }
  document.addEventListener('click', function (event) {
    const button = event.target.closest && event.target.closest('button.copy-citation');
    if (!button) return;
    const text = button.getAttribute('data-citation') || '';
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done(button, true); },
        function () { done(button, byTextarea(text, button)); });
    } else {
      done(button, byTextarea(text, button));
    }
  });
})();
