/* wschatd web client.
 *
 * Plain JavaScript, no dependencies, no build step.  Works under a strict
 * Content-Security-Policy (no inline scripts, styles or handlers).
 * Protocol: see doc/protocol.md (the wschatd chat protocol, version 1).
 *
 * Security rule for this file: user supplied data (names, message texts,
 * server error messages) is only ever inserted with textContent or
 * document.createTextNode, never through innerHTML or similar.
 */
(function () {
  'use strict';

  var MAX_TEXT_BYTES = 4096;        /* protocol default text limit */
  var NAME_MAX_CODEPOINTS = 32;
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_FACTOR = 1.6;         /* 0.5 s, 0.8 s, 1.3 s, 2 s, 3.3 s … 15 s */
  var BACKOFF_MAX_MS = 15000;
  var STABLE_CONNECTION_MS = 5000;  /* open this long => reset the backoff */
  var REJOIN_RETRIES = 5;           /* name_taken retries after a reconnect */
  var REJOIN_DELAY_MS = 1200;
  var GROUP_WINDOW_MS = 5 * 60 * 1000;
  var COUNTER_THRESHOLD = 0.8;      /* show the byte counter from 80 % on */
  var STORAGE_KEY = 'wschatd.name';
  var APP_TITLE = 'wschatd';

  var CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  function $(id) { return document.getElementById(id); }

  var els = {
    app: $('app'),
    status: $('status'),
    statusText: null,
    statusLive: $('status-live'),
    retry: $('retry-button'),
    usersToggle: $('users-toggle'),
    usersToggleCount: null,
    sidebar: $('sidebar'),
    users: $('users'),
    userCount: $('user-count'),
    meLine: $('me-line'),
    meName: $('me-name'),
    messages: $('messages'),
    emptyState: $('empty-state'),
    jump: $('jump-button'),
    messageForm: $('message-form'),
    messageInput: $('message-input'),
    sendButton: $('send-button'),
    messageError: $('message-error'),
    counter: $('char-counter'),
    overlay: $('name-overlay'),
    nameForm: $('name-form'),
    nameInput: $('name-input'),
    nameError: $('name-error'),
    nameSubmit: $('name-submit'),
    nameConnText: $('name-conn-text'),
    connBanner: $('conn-banner'),
    connBannerText: $('conn-banner-text')
  };
  els.statusText = els.status.querySelector('.status-text');
  els.usersToggleCount = els.usersToggle.querySelector('.users-toggle-count');

  var encoder = new TextEncoder();

  var state = {
    ws: null,
    conn: 'connecting',        /* connecting|connected|reconnecting|disconnected */
    everOpened: false,
    openedAt: 0,
    attempt: 0,
    reconnectTimer: 0,
    reconnectAt: 0,
    countdownTimer: 0,
    rejoinTimer: 0,

    wantName: null,            /* the name we (re)join with */
    myName: null,              /* the name the server confirmed */
    joined: false,
    joinPending: false,        /* the user submitted the name form */
    autoRejoin: false,         /* re-joining by ourselves after a reconnect */
    rejoinTries: 0,
    welcomes: 0,

    users: new Map(),          /* folded name -> display name */
    seen: new Map(),           /* message id -> "ts|from" */
    lastItem: null,            /* {kind, from, ts} of the last list entry */
    lastDay: null,
    msgCount: 0,

    pinned: true,
    unseen: 0,
    unread: 0,

    lastSent: null,
    serverError: '',
    overLimit: false
  };

  /* ------------------------------------------------------------------ */
  /* helpers                                                            */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function byteLength(s) { return encoder.encode(s).length; }

  function codePoints(s) { return Array.from(s).length; }

  /* The server compares names with ASCII case folding. */
  function fold(name) {
    return String(name).replace(/[A-Z]/g, function (c) { return c.toLowerCase(); });
  }

  function isOwn(name) {
    return state.myName !== null && fold(name) === fold(state.myName);
  }

  function hueFor(name) {
    var h = 0, s = fold(name);
    for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h % 360;
  }

  function initialFor(name) {
    var first = Array.from(String(name).trim())[0] || '?';
    return first.toLocaleUpperCase();
  }

  function makeAvatar(name, className) {
    var a = el('span', 'avatar' + (className ? ' ' + className : ''), initialFor(name));
    a.setAttribute('aria-hidden', 'true');
    a.style.setProperty('--hue', String(hueFor(name)));
    return a;
  }

  function validTs(ts) {
    return typeof ts === 'number' && isFinite(ts) ? ts : Date.now();
  }

  function dayKey(d) { return d.getFullYear() + '-' + d.getMonth() + '-' + d.getDate(); }

  function dayLabel(d) {
    var today = new Date();
    var yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(d) === dayKey(today)) return 'Today';
    if (dayKey(d) === dayKey(yesterday)) return 'Yesterday';
    var opts = { weekday: 'long', month: 'long', day: 'numeric' };
    if (d.getFullYear() !== today.getFullYear()) opts.year = 'numeric';
    return d.toLocaleDateString(undefined, opts);
  }

  function makeTime(ts) {
    var d = new Date(ts);
    var t = el('time', 'time', d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }));
    t.dateTime = d.toISOString();
    t.title = d.toLocaleString();
    return t;
  }

  function storeName(name) {
    try { window.localStorage.setItem(STORAGE_KEY, name); } catch (e) { /* ignore */ }
  }

  function loadName() {
    try { return window.localStorage.getItem(STORAGE_KEY) || ''; } catch (e) { return ''; }
  }

  /* ------------------------------------------------------------------ */
  /* connection                                                         */

  function wsUrl() {
    return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws';
  }

  function isOpen() {
    return state.ws !== null && state.ws.readyState === WebSocket.OPEN;
  }

  function send(obj) {
    if (!isOpen()) return false;
    try {
      state.ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }

  function clearReconnectTimers() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.countdownTimer);
    state.reconnectTimer = 0;
    state.countdownTimer = 0;
  }

  function connect() {
    clearReconnectTimers();
    if (state.ws) return;
    setConn(state.everOpened ? 'reconnecting' : 'connecting');

    var ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;

    ws.onopen = function () {
      if (ws !== state.ws) return;
      state.everOpened = true;
      state.openedAt = Date.now();
      setConn('connected');
      if (state.wantName && (state.autoRejoin || state.joinPending)) sendJoin();
    };

    ws.onmessage = function (ev) {
      if (ws !== state.ws || typeof ev.data !== 'string') return;
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
      handleMessage(msg);
    };

    ws.onclose = function () {
      if (ws !== state.ws) return;
      state.ws = null;
      onDisconnected();
    };

    ws.onerror = function () { /* a close event always follows */ };
  }

  function onDisconnected() {
    clearTimeout(state.rejoinTimer);
    if (state.openedAt && Date.now() - state.openedAt >= STABLE_CONNECTION_MS) state.attempt = 0;
    state.openedAt = 0;
    if (state.joined) {
      state.joined = false;
      state.autoRejoin = true;
      state.rejoinTries = 0;
    }
    if (!state.joinPending) setNameBusy(false);
    scheduleReconnect();
  }

  function scheduleReconnect() {
    clearReconnectTimers();
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(BACKOFF_FACTOR, state.attempt));
    var delay = Math.min(BACKOFF_MAX_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
    state.attempt++;
    state.reconnectAt = Date.now() + delay;
    state.reconnectTimer = setTimeout(connect, delay);

    if (navigator.onLine === false) {
      /* Keep trying slowly, but the 'online' event reconnects at once. */
      setConn('disconnected');
      return;
    }
    setConn('reconnecting');
    state.countdownTimer = setInterval(renderStatus, 500);
  }

  function connectNow() {
    if (state.ws) return;
    clearReconnectTimers();
    connect();
  }

  function sendJoin() {
    clearTimeout(state.rejoinTimer);
    if (!state.wantName) return;
    send({ type: 'join', name: state.wantName });
  }

  /* ------------------------------------------------------------------ */
  /* status indicator                                                   */

  function setConn(conn) {
    var changed = conn !== state.conn;
    state.conn = conn;
    renderStatus();
    if (changed && els.statusLive) els.statusLive.textContent = statusLabel(false);
    updateComposer();
  }

  function statusLabel(withCountdown) {
    switch (state.conn) {
      case 'connecting':
        return 'Connecting…';
      case 'connected':
        if (state.joined) return 'Connected';
        return (state.autoRejoin || state.joinPending) ? 'Joining…' : 'Connected';
      case 'reconnecting':
        if (!withCountdown || state.ws) return 'Reconnecting…';
        var secs = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
        return secs > 0 ? 'Reconnecting in ' + secs + 's' : 'Reconnecting…';
      default:
        return 'Disconnected';
    }
  }

  function renderStatus() {
    var label = statusLabel(true);
    els.status.setAttribute('data-state', state.conn);
    els.statusText.textContent = label;
    els.status.title = 'Connection status: ' + label;
    var canRetry = !state.ws && (state.conn === 'reconnecting' || state.conn === 'disconnected');
    els.retry.hidden = !canRetry;
    els.overlay.setAttribute('data-conn', state.conn);
    els.app.setAttribute('data-conn', state.conn);
    els.app.setAttribute('data-joined', state.joined ? 'true' : 'false');
    els.nameConnText.textContent =
      state.conn === 'connected' ? 'Connected to server' :
      state.conn === 'connecting' ? 'Connecting to server…' :
      state.conn === 'disconnected' ? 'Disconnected. Check your network.' :
      label;
    renderBanner();
  }

  /* Above the composer, while a chat that was joined is cut off. */
  function renderBanner() {
    var lost = !state.joined && state.autoRejoin && state.everOpened;
    var text = '';
    if (lost) {
      text = state.conn === 'connected' ? 'Connection is back. Rejoining…' :
        state.conn === 'disconnected' ? 'You’re offline. Waiting for the network…' :
        'Connection lost. Reconnecting… Anything you type is kept and can be sent once you’re back.';
    }
    els.connBanner.hidden = !lost;
    if (els.connBannerText.textContent !== text) els.connBannerText.textContent = text;
    els.connBanner.setAttribute('data-state', state.conn);
  }

  /* ------------------------------------------------------------------ */
  /* name prompt                                                        */

  function validateName(name) {
    if (!name) return 'Please enter a name.';
    var n = codePoints(name);
    if (n > NAME_MAX_CODEPOINTS) {
      return 'That name is too long: ' + n + ' characters, at most ' + NAME_MAX_CODEPOINTS + ' are allowed.';
    }
    if (CONTROL_CHARS.test(name)) return 'Names can’t contain control characters.';
    return '';
  }

  function showNameError(text) {
    els.nameError.textContent = text;
    els.nameInput.setAttribute('aria-invalid', text ? 'true' : 'false');
    els.nameForm.classList.toggle('has-error', !!text);
  }

  function setNameBusy(busy) {
    els.nameSubmit.disabled = busy;
    els.nameSubmit.textContent = busy ? 'Joining…' : 'Join chat';
    els.nameForm.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function showNameOverlay(errorText) {
    setNameBusy(false);
    if (state.wantName && !els.nameInput.value) els.nameInput.value = state.wantName;
    showNameError(errorText || '');
    els.overlay.hidden = false;
    els.app.inert = true;
    els.app.setAttribute('aria-hidden', 'true');
    closeSidebar();
    els.nameInput.focus();
    window.setTimeout(function () {
      els.nameInput.focus();
      if (errorText) els.nameInput.select();
    }, 0);
  }

  function hideNameOverlay() {
    els.overlay.hidden = true;
    els.app.inert = false;
    els.app.removeAttribute('aria-hidden');
  }

  function onNameSubmit(ev) {
    ev.preventDefault();
    var name = els.nameInput.value.trim();
    var err = validateName(name);
    if (err) {
      showNameError(err);
      els.nameInput.focus();
      return;
    }
    showNameError('');
    state.wantName = name;
    state.joinPending = true;
    state.autoRejoin = false;
    state.rejoinTries = 0;
    setNameBusy(true);
    if (isOpen()) sendJoin();
    else connectNow();
    renderStatus();
  }

  /* ------------------------------------------------------------------ */
  /* server messages                                                    */

  function handleMessage(msg) {
    switch (msg.type) {
      case 'welcome': onWelcome(msg); break;
      case 'join': onJoin(msg); break;
      case 'leave': onLeave(msg); break;
      case 'message': onChatMessage(msg); break;
      case 'error': onError(msg); break;
      default: /* unknown server message types are ignored (forward compatibility) */ break;
    }
  }

  function onWelcome(msg) {
    var first = state.welcomes === 0;
    state.welcomes++;
    clearTimeout(state.rejoinTimer);
    state.joined = true;
    state.joinPending = false;
    state.autoRejoin = false;
    state.rejoinTries = 0;
    state.attempt = 0;
    state.myName = typeof msg.name === 'string' && msg.name ? msg.name : state.wantName;
    state.wantName = state.myName;
    storeName(state.myName);

    setUsers(Array.isArray(msg.users) ? msg.users : [state.myName]);
    els.meName.textContent = state.myName;
    els.meLine.hidden = false;

    var history = Array.isArray(msg.history) ? msg.history.filter(validMessage) : [];
    els.messages.setAttribute('aria-busy', 'true');
    if (first) {
      if (history.length) addDivider('Earlier messages', 'divider-history');
    } else {
      history = history.filter(function (ev) { return !isSeen(ev); });
      addDivider('Reconnected', 'divider-reconnect');
    }
    for (var i = 0; i < history.length; i++) addChatMessage(history[i], true);
    els.messages.setAttribute('aria-busy', 'false');

    setNameBusy(false);
    hideNameOverlay();
    updateEmptyState();
    setConn('connected');
    renderStatus();
    scrollToBottom();
    els.messageInput.focus();
  }

  function onJoin(ev) {
    if (typeof ev.name !== 'string') return;
    addUser(ev.name);
    var own = isOwn(ev.name);
    var parts = own
      ? [state.welcomes > 1 ? 'You rejoined as ' : 'You joined as ', { strong: ev.name }]
      : [{ strong: ev.name }, ' joined'];
    addNotice(parts, validTs(ev.ts), own ? 'notice-self' : 'notice-join');
  }

  function onLeave(ev) {
    if (typeof ev.name !== 'string') return;
    removeUser(ev.name);
    addNotice([{ strong: ev.name }, ' left'], validTs(ev.ts), 'notice-leave');
  }

  function validMessage(ev) {
    return ev && typeof ev === 'object' && typeof ev.from === 'string' && typeof ev.text === 'string';
  }

  function seenKey(ev) { return validTs(ev.ts) + '|' + ev.from; }

  function isSeen(ev) {
    return typeof ev.id === 'number' && state.seen.get(ev.id) === seenKey(ev);
  }

  function onChatMessage(ev) {
    if (!validMessage(ev)) return;
    addChatMessage(ev, false);
    updateEmptyState();
  }

  function onError(msg) {
    var code = typeof msg.code === 'string' ? msg.code : '';
    var text = typeof msg.message === 'string' ? msg.message : '';

    switch (code) {
      case 'name_taken':
        if (state.autoRejoin && !state.joined) {
          if (state.rejoinTries < REJOIN_RETRIES) {
            /* Probably our own previous connection, not yet noticed as gone. */
            state.rejoinTries++;
            clearTimeout(state.rejoinTimer);
            state.rejoinTimer = setTimeout(function () {
              if (isOpen() && !state.joined && state.autoRejoin) sendJoin();
            }, REJOIN_DELAY_MS * state.rejoinTries);
            return;
          }
          state.autoRejoin = false;
          showNameOverlay('“' + state.wantName + '” is still in use — your previous session may not have ended yet. Try again in a moment or pick another name.');
          return;
        }
        state.joinPending = false;
        showNameOverlay('“' + (state.wantName || '') + '” is already taken. Please choose another name.');
        return;

      case 'name_invalid':
        state.joinPending = false;
        state.autoRejoin = false;
        showNameOverlay(text ? 'That name isn’t allowed: ' + text : 'That name isn’t allowed. Use 1–32 characters without control characters.');
        return;

      case 'too_long':
        restoreLastSent();
        setServerError('Your message was too long and wasn’t sent.' + (text ? ' (' + text + ')' : ''));
        return;

      case 'rate_limited':
        restoreLastSent();
        setServerError('You’re sending messages too quickly. Wait a moment, then try again.');
        return;

      case 'not_joined':
        if (state.wantName && isOpen()) {
          state.autoRejoin = true;
          sendJoin();
        } else {
          showNameOverlay('');
        }
        return;

      case 'already_joined':
        return;

      default:
        setServerError(text || 'The server reported an error (' + (code || 'unknown') + ').');
    }
  }

  /* ------------------------------------------------------------------ */
  /* user list                                                          */

  function setUsers(list) {
    state.users = new Map();
    for (var i = 0; i < list.length; i++) {
      if (typeof list[i] === 'string') state.users.set(fold(list[i]), list[i]);
    }
    if (state.myName && !state.users.has(fold(state.myName))) state.users.set(fold(state.myName), state.myName);
    renderUsers();
  }

  function addUser(name) {
    state.users.set(fold(name), name);
    renderUsers();
  }

  function removeUser(name) {
    state.users.delete(fold(name));
    renderUsers();
  }

  function renderUsers() {
    var names = Array.from(state.users.values());
    names.sort(function (a, b) {
      var ao = isOwn(a), bo = isOwn(b);
      if (ao !== bo) return ao ? -1 : 1;
      return a.localeCompare(b, undefined, { sensitivity: 'base' });
    });
    var frag = document.createDocumentFragment();
    for (var i = 0; i < names.length; i++) {
      var li = el('li', 'user' + (isOwn(names[i]) ? ' me' : ''));
      li.appendChild(makeAvatar(names[i]));
      li.appendChild(el('span', 'user-name', names[i]));
      if (isOwn(names[i])) li.appendChild(el('span', 'you-badge', 'you'));
      frag.appendChild(li);
    }
    els.users.replaceChildren(frag);
    var n = String(names.length);
    els.userCount.textContent = n;
    els.usersToggleCount.textContent = n;
    els.usersToggle.setAttribute('aria-label',
      (els.usersToggle.getAttribute('aria-expanded') === 'true' ? 'Hide' : 'Show') +
      ' online users (' + n + ')');
  }

  function openSidebar() {
    els.sidebar.classList.add('open');
    els.usersToggle.setAttribute('aria-expanded', 'true');
    renderUsers();
  }

  function closeSidebar() {
    els.sidebar.classList.remove('open');
    els.usersToggle.setAttribute('aria-expanded', 'false');
    renderUsers();
  }

  /* ------------------------------------------------------------------ */
  /* message list                                                       */

  function appendEntry(node, ts, countsAsNew, forceScroll) {
    var d = new Date(ts);
    var key = dayKey(d);
    if (state.lastDay !== key) {
      /* The very first entry only gets a date line when it is not today. */
      if (state.lastDay !== null || key !== dayKey(new Date())) addDivider(dayLabel(d), 'divider-day');
      state.lastDay = key;
    }
    var stick = state.pinned || forceScroll;
    els.messages.appendChild(node);
    if (stick) {
      scrollToBottom();
    } else if (countsAsNew) {
      state.unseen++;
      renderJump();
    }
  }

  function addDivider(label, extraClass) {
    var div = el('div', 'divider' + (extraClass ? ' ' + extraClass : ''));
    div.setAttribute('role', 'separator');
    div.appendChild(el('span', 'divider-label', label));
    els.messages.appendChild(div);
    state.lastItem = null;
    if (state.pinned) scrollToBottom();
  }

  function addNotice(parts, ts, extraClass) {
    var div = el('div', 'notice' + (extraClass ? ' ' + extraClass : ''));
    var body = el('span', 'notice-body');
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (typeof p === 'string') body.appendChild(document.createTextNode(p));
      else body.appendChild(el('strong', 'notice-name', p.strong));
    }
    div.appendChild(body);
    div.appendChild(makeTime(ts));
    state.lastItem = null;
    appendEntry(div, ts, false, false);
  }

  function addChatMessage(ev, fromHistory) {
    var ts = validTs(ev.ts);
    var own = isOwn(ev.from);
    var last = state.lastItem;
    var cont = !!last && fold(last.from) === fold(ev.from) && ts - last.ts < GROUP_WINDOW_MS &&
      ts >= last.ts && dayKey(new Date(ts)) === state.lastDay;

    var node = el('div', 'msg' + (own ? ' own' : '') + (cont ? ' cont' : '') + (fromHistory ? ' history' : ''));
    if (typeof ev.id === 'number') {
      node.setAttribute('data-id', String(ev.id));
      state.seen.set(ev.id, seenKey(ev));
    }
    node.style.setProperty('--hue', String(hueFor(ev.from)));

    if (!own) node.appendChild(makeAvatar(ev.from, cont ? 'avatar-hidden' : ''));

    var bubble = el('div', 'bubble');
    var from = el('span', 'from', ev.from);
    if (own || cont) from.classList.add('visually-hidden');
    bubble.appendChild(from);

    var text = el('div', 'text');
    renderText(text, ev.text);
    bubble.appendChild(text);
    bubble.appendChild(makeTime(ts));
    node.appendChild(bubble);

    state.lastItem = { from: ev.from, ts: ts };
    state.msgCount++;
    appendEntry(node, ts, !fromHistory && !own, own && !fromHistory);

    if (!fromHistory && !own && document.hidden) {
      state.unread++;
      document.title = '(' + state.unread + ') ' + APP_TITLE;
    }
  }

  /* Put text into node, turning http(s) URLs into safe links. */
  function renderText(node, text) {
    var last = 0;
    URL_RE.lastIndex = 0;
    var m;
    while ((m = URL_RE.exec(text)) !== null) {
      var raw = trimUrl(m[0]);
      var start = m.index;
      URL_RE.lastIndex = start + Math.max(raw.length, 1);
      var link = raw ? makeLink(raw) : null;
      if (!link) continue;
      if (start > last) node.appendChild(document.createTextNode(text.slice(last, start)));
      node.appendChild(link);
      last = start + raw.length;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }

  function countChar(s, c) {
    var n = 0;
    for (var i = 0; i < s.length; i++) if (s[i] === c) n++;
    return n;
  }

  /* Drop trailing punctuation that is most likely not part of the URL. */
  function trimUrl(url) {
    var pairs = { ')': '(', ']': '[', '}': '{' };
    while (url.length) {
      var c = url[url.length - 1];
      if ('.,;:!?*'.indexOf(c) >= 0) {
        url = url.slice(0, -1);
      } else if (pairs[c] && countChar(url, pairs[c]) < countChar(url, c)) {
        url = url.slice(0, -1);
      } else {
        break;
      }
    }
    return url;
  }

  function makeLink(raw) {
    var u;
    try { u = new URL(raw); } catch (e) { return null; }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) return null;
    var a = document.createElement('a');
    a.href = u.href;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    a.appendChild(document.createTextNode(raw));
    return a;
  }

  function updateEmptyState() {
    els.emptyState.hidden = !(state.welcomes > 0 && state.msgCount === 0);
  }

  /* ------------------------------------------------------------------ */
  /* scrolling                                                          */

  function atBottom() {
    var m = els.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 48;
  }

  function scrollToBottom(smooth) {
    var m = els.messages;
    if (smooth && typeof m.scrollTo === 'function') {
      m.scrollTo({ top: m.scrollHeight, behavior: 'smooth' });
    } else {
      m.scrollTop = m.scrollHeight;
    }
    state.pinned = true;
    state.unseen = 0;
    renderJump();
  }

  function renderJump() {
    if (state.pinned || state.unseen === 0) {
      els.jump.hidden = true;
      return;
    }
    els.jump.replaceChildren(
      document.createTextNode(state.unseen === 1 ? '1 new message ' : state.unseen + ' new messages '),
      arrowSpan()
    );
    els.jump.hidden = false;
  }

  function arrowSpan() {
    var s = el('span', 'jump-arrow', '↓');
    s.setAttribute('aria-hidden', 'true');
    return s;
  }

  /* ------------------------------------------------------------------ */
  /* composer                                                           */

  function outgoingText() {
    /* Drop blank lines at the start and the end; everything else is sent
     * exactly as typed.  White space only counts as empty. */
    var t = els.messageInput.value
      .replace(/^(?:[ \t]*\r?\n)+/, '')
      .replace(/(?:\r?\n[ \t]*)+$/, '');
    return t.trim() ? t : '';
  }

  function canSend() { return isOpen() && state.joined; }

  function setServerError(text) {
    state.serverError = text;
    renderComposerError();
  }

  function renderComposerError() {
    var text = state.serverError;
    if (state.overLimit) {
      var over = byteLength(outgoingText()) - MAX_TEXT_BYTES;
      text = 'Message is too long: ' + over + (over === 1 ? ' byte' : ' bytes') +
        ' over the ' + MAX_TEXT_BYTES + '-byte limit.';
    }
    if (els.messageError.textContent !== text) els.messageError.textContent = text;
    els.messageForm.classList.toggle('has-error', !!text);
  }

  function updateComposer() {
    var text = outgoingText();
    var bytes = byteLength(text);
    var over = bytes > MAX_TEXT_BYTES;
    var wasOver = state.overLimit;
    state.overLimit = over;

    if (bytes >= MAX_TEXT_BYTES * COUNTER_THRESHOLD) {
      els.counter.textContent = bytes + ' / ' + MAX_TEXT_BYTES;
      els.counter.className = 'char-counter visible' + (over ? ' over' : '');
    } else {
      els.counter.textContent = '';
      els.counter.className = 'char-counter';
    }
    els.messageInput.setAttribute('aria-invalid', over ? 'true' : 'false');
    els.sendButton.disabled = !text || over || !canSend();
    els.messageForm.setAttribute('data-ready', canSend() ? 'true' : 'false');
    if (over || wasOver) renderComposerError();
  }

  function autoGrow() {
    var t = els.messageInput;
    t.style.height = 'auto';
    var max = Math.round(window.innerHeight * 0.35);
    var h = Math.min(t.scrollHeight + 2, Math.max(max, 80));
    t.style.height = h + 'px';
    t.classList.toggle('scrolling', t.scrollHeight + 2 > h);
  }

  function restoreLastSent() {
    if (state.lastSent && !els.messageInput.value) {
      els.messageInput.value = state.lastSent;
      autoGrow();
      updateComposer();
    }
    state.lastSent = null;
  }

  function submitMessage() {
    var text = outgoingText();
    if (!text) return;
    if (byteLength(text) > MAX_TEXT_BYTES) {
      updateComposer();
      return;
    }
    if (!canSend()) {
      setServerError(state.joined || state.autoRejoin
        ? 'Not connected right now — your message is kept here and you can send it once the connection is back.'
        : 'Not connected.');
      return;
    }
    if (!send({ type: 'message', text: text })) {
      setServerError('Sending failed — please try again.');
      return;
    }
    state.lastSent = text;
    state.serverError = '';
    els.messageInput.value = '';
    autoGrow();
    updateComposer();
    renderComposerError();
    els.messageInput.focus();
  }

  /* ------------------------------------------------------------------ */
  /* wiring                                                             */

  els.nameForm.addEventListener('submit', onNameSubmit);
  els.nameInput.addEventListener('input', function () {
    if (els.nameError.textContent) showNameError('');
  });

  els.messageForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    submitMessage();
  });

  els.messageInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      submitMessage();
    }
  });

  els.messageInput.addEventListener('input', function () {
    if (state.serverError) state.serverError = '';
    autoGrow();
    updateComposer();
    renderComposerError();
  });

  /* Keep the focus in the text area when the send button is clicked. */
  els.sendButton.addEventListener('mousedown', function (ev) { ev.preventDefault(); });

  els.messages.addEventListener('scroll', function () {
    state.pinned = atBottom();
    if (state.pinned && state.unseen) {
      state.unseen = 0;
      renderJump();
    }
  }, { passive: true });

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(function () {
      if (state.pinned) els.messages.scrollTop = els.messages.scrollHeight;
    }).observe(els.messages);
  }

  els.jump.addEventListener('click', function () {
    scrollToBottom(true);
    els.messageInput.focus();
  });

  els.retry.addEventListener('click', function () {
    state.attempt = 0;
    connectNow();
  });

  els.usersToggle.addEventListener('click', function () {
    if (els.sidebar.classList.contains('open')) closeSidebar();
    else openSidebar();
  });

  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && els.sidebar.classList.contains('open')) {
      closeSidebar();
      els.usersToggle.focus();
    }
  });

  document.addEventListener('click', function (ev) {
    if (!els.sidebar.classList.contains('open')) return;
    if (els.sidebar.contains(ev.target) || els.usersToggle.contains(ev.target)) return;
    closeSidebar();
  });

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      state.unread = 0;
      document.title = APP_TITLE;
      /* Phones throttle timers in background tabs; reconnect promptly. */
      if (!state.ws && state.reconnectTimer) connectNow();
    }
  });

  window.addEventListener('online', function () {
    if (!state.ws) {
      state.attempt = 0;
      connectNow();
    }
  });

  window.addEventListener('offline', function () {
    if (!state.ws && state.conn === 'reconnecting') setConn('disconnected');
  });

  /* Close cleanly on navigation so the server frees the name at once. */
  window.addEventListener('pagehide', function () {
    clearReconnectTimers();
    var ws = state.ws;
    if (ws) {
      state.ws = null;
      if (state.joined) {
        state.joined = false;
        state.autoRejoin = true;
      }
      try { ws.close(1000, 'page closed'); } catch (e) { /* ignore */ }
    }
    setConn('disconnected');
  });

  window.addEventListener('pageshow', function (ev) {
    if (ev.persisted && !state.ws) {
      state.attempt = 0;
      connectNow();
    }
  });

  window.addEventListener('resize', function () {
    autoGrow();
    if (state.pinned) els.messages.scrollTop = els.messages.scrollHeight;
  });

  /* ------------------------------------------------------------------ */
  /* start                                                              */

  els.nameInput.value = loadName();
  showNameOverlay('');
  updateComposer();
  autoGrow();
  connect();
})();
