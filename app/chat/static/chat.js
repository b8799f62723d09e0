// The page's handlers: a marker shows its span (ids only, no text search); the
// "Hide flagged sentences" box hides the sentences the check flagged.
document.addEventListener('click', function (event) {
  const link = event.target.closest('a.cite');
  if (!link || !link.getAttribute('href')) return;
  const id = link.getAttribute('href').slice(1);
  const sources = document.getElementById('sources');
  if (!sources) return;
  event.preventDefault();
  event.stopPropagation();
  sources.querySelectorAll('.active').forEach(function (el) { el.classList.remove('active'); });
  const parts = id.split('-');  // cite-<turn>-<sentence>-<source>
  const card = document.getElementById('src-' + parts[1] + '-' + parts[3]);
  let target = sources.querySelector('mark[data-cites~="' + id + '"]') || card;
  if (!target) return;
  for (let el = target; el && el !== sources; el = el.parentElement) {
    if (el.tagName === 'DETAILS') el.open = true;
  }
  if (card) card.classList.add('active');
  target.classList.add('active');
  target.scrollIntoView({block: 'center', behavior: 'smooth'});
}, true);
document.addEventListener('change', function (event) {
  if (!event.target.closest('#hide-flagged')) return;
  document.documentElement.classList.toggle('hide-flagged', event.target.checked);
});
