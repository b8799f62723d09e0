// "Add a document": a file dropped on the zone or picked is checked here first (type,
// size: the server checks both again), sent as the raw body of POST documents?name=…,
// and each step the server streams back (one JSON line each) moves the progress bar.
(function () {
  const RANGES = {read: [30, 50], chunk: [50, 55], embed: [55, 90], write: [90, 97], index: [97, 100]};
  function part(id) { return document.getElementById(id); }
  function say(text, kind) {
    const message = part('upload-message');
    if (!message) return;
    message.textContent = text;
    message.className = kind ? 'upload-' + kind : '';
  }
  function finish(zone, bar) {
    zone.classList.remove('busy');
    bar.hidden = true;
    const input = part('upload-input');
    if (input) input.value = '';
  }
  function send(file) {
    const zone = part('upload-zone');
    const bar = part('upload-progress');
    if (!zone || !bar || zone.classList.contains('busy')) return;
    const types = (zone.dataset.types || '').split(',');
    const dot = file.name.lastIndexOf('.');
    const suffix = dot >= 0 ? file.name.slice(dot).toLowerCase() : '';
    if (!types.includes(suffix)) {
      say('\u201c' + file.name + '\u201d is not a type the chat takes (' + types.join(', ') + ').', 'error');
      return;
    }
    if (file.size > Number(zone.dataset.maxBytes)) {
      say('\u201c' + file.name + '\u201d is too large: the chat takes files up to ' + zone.dataset.limit + '.', 'error');
      return;
    }
    zone.classList.add('busy');
    bar.hidden = false;
    bar.value = 0;
    say('Sending \u201c' + file.name + '\u201d\u2026');
    const xhr = new XMLHttpRequest();
    let read = 0;
    let ended = false;
    function lines() {
      const text = xhr.responseText || '';
      const end = text.lastIndexOf('\n');
      if (end < read) return;
      text.slice(read, end).split('\n').forEach(function (line) {
        if (!line.trim()) return;
        let event;
        try { event = JSON.parse(line); } catch (e) { return; }
        if (event.error) { ended = true; say(event.error, 'error'); return; }
        if (event.done) { ended = true; bar.value = 100; say(event.message, 'done'); return; }
        const range = RANGES[event.stage] || [bar.value, bar.value];
        bar.value = range[0] + (range[1] - range[0]) * (event.step / Math.max(event.of, 1));
        say(event.label + (event.of > 1 ? ' (' + event.step + ' of ' + event.of + ')' : '') + '\u2026');
      });
      read = end + 1;
    }
    xhr.open('POST', 'documents?name=' + encodeURIComponent(file.name));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = 30 * e.loaded / Math.max(e.total, 1);
    };
    xhr.onprogress = lines;
    xhr.onload = function () {
      if (xhr.status >= 400) {
        let message = 'The upload was refused (HTTP ' + xhr.status + ').';
        try { message = JSON.parse(xhr.responseText).error || message; } catch (e) { /* kept */ }
        if (xhr.status === 401) message = 'Sign in again to add a document.';
        say(message, 'error');
      } else {
        lines();
        if (!ended) say('The upload ended before the server said it was done.', 'error');
      }
      finish(zone, bar);
    };
    xhr.onerror = function () {
      say('The upload failed: the server could not be reached.', 'error');
      finish(zone, bar);
    };
    xhr.send(file);
  }
  document.addEventListener('change', function (event) {
    if (event.target.id === 'upload-input' && event.target.files.length) send(event.target.files[0]);
  });
  ['dragenter', 'dragover'].forEach(function (name) {
    document.addEventListener(name, function (event) {
      const zone = event.target.closest && event.target.closest('#upload-zone');
      if (!zone) return;
      event.preventDefault();
      zone.classList.add('dragging');
    });
  });
  document.addEventListener('dragleave', function (event) {
    const zone = event.target.closest && event.target.closest('#upload-zone');
    if (zone) zone.classList.remove('dragging');
  });
  document.addEventListener('drop', function (event) {
    const zone = event.target.closest && event.target.closest('#upload-zone');
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove('dragging');
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) send(files[0]);
  });
})();
