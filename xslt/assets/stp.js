/* Who is signed in, in the static pages' header: their name and organisation, linking to
 * /stp/account, and a sign-out button (a POST with the session's token). Without JavaScript the
 * header offers "Sign in", and /stp/account says the same on the server. */
(function () {
  'use strict';
  var slot = document.querySelector('header.top li.signin');
  if (!slot || !window.fetch) return;
  /* First, and alone: a browser's first request may start its session (the stp_sid cookie), and
   * two requests at once would start two. The save forms wait for this one. */
  window.stpWho = fetch('/stp/whoami', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .catch(function () { return null; });
  window.stpWho
    .then(function (who) {
      var d = who && who.display;
      if (!d || !d.signout) return; /* anonymous */
      var account = document.createElement('a');
      account.href = slot.getAttribute('data-account');
      account.textContent = d.org ? d.name + ' · ' + d.org : d.name;
      var form = document.createElement('form');
      form.className = 'signout';
      form.method = 'post';
      form.action = '/stp/logout';
      var csrf = document.createElement('input');
      csrf.type = 'hidden';
      csrf.name = 'csrf';
      csrf.value = d.signout;
      var button = document.createElement('button');
      button.type = 'submit';
      button.textContent = slot.getAttribute('data-signout');
      form.appendChild(csrf);
      form.appendChild(button);
      var item = document.createElement('li');
      item.className = 'signout';
      item.appendChild(form);
      slot.className = 'who';
      slot.textContent = '';
      slot.appendChild(account);
      slot.parentNode.insertBefore(item, slot.nextSibling);
      if (who.kind === 'tenant-admin') { /* the organisation's settings, as on the module's pages */
        var admin = document.createElement('li');
        var link = document.createElement('a');
        admin.className = 'admin';
        link.href = slot.getAttribute('data-admin-href');
        link.textContent = slot.getAttribute('data-admin');
        admin.appendChild(link);
        slot.parentNode.insertBefore(admin, slot);
      }
    })
    .catch(function () { /* the header keeps "Sign in" */ });
})();

/* stp.js: progressive enhancement of the "Save to library" forms. Without JavaScript the forms
 * are plain POSTs that the module completes (after sign-in or a confirmation); with it, a
 * signed-in user's forms get their CSRF token and toggle in place without a reload. */
(function () {
  'use strict';
  var forms = Array.prototype.slice.call(document.querySelectorAll('form.save'));
  if (!forms.length || !window.fetch || !window.URLSearchParams) return;

  function show(form, saved) {
    var button = form.querySelector('button');
    form.elements.action.value = saved ? 'remove' : 'add';
    button.textContent = button.getAttribute(saved ? 'data-remove' : 'data-add');
    button.setAttribute('aria-pressed', saved ? 'true' : 'false');
  }

  function sync(series, saved) {
    forms.forEach(function (f) {
      if (f.getAttribute('data-series') === series) show(f, saved);
    });
  }

  var json = { credentials: 'same-origin', headers: { Accept: 'application/json' } };
  Promise.resolve(window.stpWho)
    .then(function () { return fetch('/stp/library', json); })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (lib) {
      if (!lib || !lib.token) return; /* anonymous: the plain form signs in first */
      var saved = {};
      lib.series.forEach(function (s) { saved[s] = true; });
      forms.forEach(function (form) {
        var csrf = form.elements.csrf; /* My Library's own forms come with one */
        if (!csrf) {
          csrf = document.createElement('input');
          csrf.type = 'hidden';
          csrf.name = 'csrf';
          form.appendChild(csrf);
        }
        csrf.value = lib.token;
        show(form, !!saved[form.getAttribute('data-series')]);
        form.addEventListener('submit', function (event) {
          event.preventDefault();
          var body = new URLSearchParams(new FormData(form)).toString();
          /* getAttribute: form.action would be the <input name="action"> field */
          fetch(form.getAttribute('action'), {
            method: 'POST',
            credentials: 'same-origin',
            headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
            body: body
          })
            .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
            .then(function (res) { sync(res.series, res.saved); })
            .catch(function () { form.submit(); }); /* let the server say what went wrong */
        });
      });
    })
    .catch(function () { /* the plain forms still work */ });
})();

/* My Library: one form whose remove buttons (name="doc") post the entry they belong to. With
 * JavaScript each button toggles in place (remove, then save again) without a reload. */
(function () {
  'use strict';
  var form = document.querySelector('form.library');
  if (!form || !window.fetch || !window.URLSearchParams) return;
  form.addEventListener('submit', function (event) {
    var button = event.submitter;
    if (!button || button.name !== 'doc') return; /* the browser posts it as it is */
    event.preventDefault();
    var saved = button.getAttribute('aria-pressed') === 'true';
    var body = new URLSearchParams();
    body.set('csrf', form.elements.csrf.value);
    body.set('action', saved ? 'remove' : 'add');
    body.set('doc', button.value);
    fetch(form.getAttribute('action'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body.toString()
    })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (res) {
        button.setAttribute('aria-pressed', res.saved ? 'true' : 'false');
        button.textContent = form.getAttribute(res.saved ? 'data-remove' : 'data-add');
      })
      .catch(function () {
        /* let the server say what went wrong: the same post without JavaScript */
        var doc = document.createElement('input');
        doc.type = 'hidden';
        doc.name = 'doc';
        doc.value = button.value;
        form.elements.action.value = saved ? 'remove' : 'add';
        form.appendChild(doc);
        form.submit();
      });
  });
})();

/* "Was this page helpful?" (the footer of every page). Without JavaScript a plain POST that the
 * module answers with its thanks page (a signed-in user confirms once there); with it, the answer
 * goes with the user's token, if any, and the thanks and a comment box replace the question. */
(function () {
  'use strict';
  var form = document.querySelector('form.feedback');
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var json = { credentials: 'same-origin', headers: { Accept: 'application/json' } };

  function send(fields) {
    return Promise.resolve(window.stpWho)
      .then(function () { return fetch('/stp/feedback', json); })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (t) {
        var body = new URLSearchParams(fields);
        if (t && t.token) body.set('csrf', t.token);
        return fetch('/stp/feedback', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
          body: body.toString()
        });
      })
      .then(function (r) {
        return r.json().then(function (res) { if (!r.ok) throw res; return res; });
      });
  }

  function el(name, attrs, text) {
    var e = document.createElement(name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  var page = form.elements.page.value, lang = form.elements.lang.value;
  var box = el('div', { 'class': 'feedback' });
  var status = el('p', { 'class': 'thanks', role: 'status' });

  function more(seq) {
    var f = el('form', { 'class': 'feedback-more', method: 'post', action: '/stp/feedback' });
    var label = el('label', { 'for': 'fb-more' }, form.getAttribute('data-more'));
    var text = el('textarea', { id: 'fb-more', name: 'comment', rows: '3', maxlength: '2000',
      'aria-describedby': 'fb-more-privacy' });
    var note = el('p', { id: 'fb-more-privacy', 'class': 'meta' }, form.getAttribute('data-privacy'));
    var button = el('button', { type: 'submit' }, form.getAttribute('data-send'));
    f.appendChild(label);
    f.appendChild(text);
    f.appendChild(note);
    f.appendChild(button);
    f.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!text.value.trim()) return;
      button.disabled = true;
      send({ page: page, lang: lang, ref: String(seq), comment: text.value })
        .then(function () { box.removeChild(f); status.textContent = form.getAttribute('data-thanks'); })
        .catch(function (res) {
          button.disabled = false;
          status.textContent = (res && res.message) || form.getAttribute('data-error');
        });
    });
    return f;
  }

  form.addEventListener('submit', function (event) {
    var button = event.submitter;
    if (!button || button.name !== 'answer') return;
    event.preventDefault();
    send({ page: page, lang: lang, answer: button.value })
      .then(function (res) {
        status.textContent = form.getAttribute('data-thanks');
        box.appendChild(status);
        if (res.comment) box.appendChild(more(res.seq));
        form.parentNode.replaceChild(box, form);
      })
      .catch(function (res) {
        if (res && res.message) { /* 400, 403 or 429: say why, in place */
          status.textContent = res.message;
          form.appendChild(status);
          return;
        }
        var answer = el('input', { type: 'hidden', name: 'answer', value: button.value });
        form.appendChild(answer);
        form.submit(); /* let the server say what went wrong */
      });
  });
})();
