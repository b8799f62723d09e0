// The page's handlers: a marker shows its span (ids only, no text search); the
// "Hide flagged sentences" box hides the sentences the check flagged.
// A reasoning step's source link (a.source-link, #src-<turn>-<source>) shows its card.
document.addEventListener('click', function (event) {
  const link = event.target.closest('a.cite, a.source-link');
  if (!link || !link.getAttribute('href')) return;
  const id = link.getAttribute('href').slice(1);
  const sources = document.getElementById('sources');
  if (!sources) return;
  event.preventDefault();
  event.stopPropagation();
  sources.querySelectorAll('.active').forEach(function (el) { el.classList.remove('active'); });
  const parts = id.split('-');  // cite-<turn>-<sentence>-<source>, or src-<turn>-<source>
  const card = parts[0] === 'src' ? document.getElementById(id)
    : document.getElementById('src-' + parts[1] + '-' + parts[3]);
  let target = (parts[0] === 'cite' && sources.querySelector('mark[data-cites~="' + id + '"]'))
    || card;
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
// Gradio's sanitiser keeps classes and titles of a chat message but drops data-* and
// aria-*: each marker's verdict (its icon's verdict-<word> class) and its reason (its
// title) are put back as data-verdict, aria-label and data-reason.
function legalragRestoreVerdicts() {
  document.querySelectorAll('#chat .cite:not([data-verdict]), #chat .cite-invalid:not([data-verdict])')
    .forEach(function (el) {
      const icon = el.querySelector('.v-icon');
      const found = icon && icon.className.match(/verdict-([a-z_]+)/);
      if (!found) return;
      el.dataset.verdict = found[1];
      icon.setAttribute('aria-hidden', 'true');
      const number = (el.textContent.match(/\[(\d+)\]/) || [])[1];
      const reason = (el.title || '').split(' \u2014 ').slice(1).join(' \u2014 ');
      el.dataset.reason = reason;
      el.setAttribute('aria-label', 'Citation ' + number + ', ' + reason);
      if (el.tagName === 'S') el.setAttribute('tabindex', '0');
    });
}
// Gradio's reasoning fold puts an unnamed, too small button inside its own role=button
// title (axe: button-name, nested-interactive, target-size): the title is the control,
// so the inner one is taken out of the tab order and the accessibility tree.
function legalragFixGradio() {
  document.querySelectorAll('#chat [role=button] .icon-button:not([aria-hidden])')
    .forEach(function (button) {
      button.setAttribute('aria-hidden', 'true');
      button.setAttribute('tabindex', '-1');
      button.disabled = true;  // clicks go to the title (chat.css: pointer-events)
    });
  // A message's name is its text, not the HTML Gradio copies into aria-label.
  document.querySelectorAll('#chat [aria-label*="<"]').forEach(function (el) {
    const who = el.getAttribute('data-testid') === 'user' ? 'Question: ' : 'Answer: ';
    el.setAttribute('aria-label', who + el.textContent.trim().replace(/\s+/g, ' ').slice(0, 300));
  });
}
// A question sent (Enter, Ask) while an answer streams waits for that answer
// (blocks.py: trigger_mode always_last): the page says so rather than seem to ignore it.
function legalragAnswering() {
  return !!document.querySelector('#question .generating, #sources .generating');
}
function legalragQueuedNote() {
  let note = document.getElementById('queued-note');
  if (!note) {
    const box = document.getElementById('question');
    if (!box) return null;
    note = document.createElement('p');
    note.id = 'queued-note';
    note.className = 'notice';
    note.setAttribute('role', 'status');
    box.insertAdjacentElement('afterend', note);
  }
  return note;
}
function legalragQueued() {
  const box = document.querySelector('#question textarea');
  if (!legalragAnswering() || !box || !box.value.trim()) return;
  const note = legalragQueuedNote();
  if (note) {
    note.textContent = 'Still answering: your question will be asked when this answer is ' +
      'done (Stop ends it now).';
  }
}
document.addEventListener('keydown', function (event) {
  if (event.key === 'Enter' && !event.shiftKey && event.target.closest('#question')) {
    legalragQueued();
  }
}, true);
document.addEventListener('click', function (event) {
  if (event.target.closest('#ask')) legalragQueued();
}, true);
function legalragOnChange() {
  legalragRestoreVerdicts();
  legalragFixGradio();
  const note = document.getElementById('queued-note');
  const box = document.querySelector('#question textarea');
  if (note && note.textContent && (!box || !box.value.trim())) note.textContent = '';
}
new MutationObserver(legalragOnChange).observe(document.documentElement,
  {subtree: true, childList: true, characterData: true});
