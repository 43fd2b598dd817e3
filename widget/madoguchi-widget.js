/*
 * madoguchi web chat widget — plain JavaScript, no framework, no build step.
 *
 * Embed with one tag:
 *   <script src="https://city.example/widget/madoguchi-widget.js"
 *           data-server="https://chat.city.example" data-phone="012-345-6700" defer></script>
 *
 * The widget loads its stylesheet (madoguchi-widget.css) and its Japanese UI strings (i18n/ja.json)
 * from the folder of this script, and talks to the Rasa REST channel:
 *   POST {data-server}/webhooks/rest/webhook  {sender, message, metadata: {yasashii, furigana}}
 *
 * Everything a message contains is rendered with textContent / createElement (never innerHTML);
 * only http(s) URLs become links. The conversation lives in sessionStorage (this tab only); nothing
 * is written to localStorage or cookies.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__madoguchiWidgetLoaded) {
    return;
  }
  window.__madoguchiWidgetLoaded = true;

  var STORE_KEY = "madoguchi.widget.v1";
  var MAX_KEPT_MESSAGES = 200;
  var MAX_MESSAGE_CHARS = 1000;
  var REQUEST_TIMEOUT_MS = 30000;
  // A growing text box stops at a quarter of the panel: at 390×480 (a phone with its keyboard open) with
  // 文字 大 that is 5 lines and still leaves the message area over half the panel.
  var MAX_INPUT_SHARE = 0.25;
  var PHONE_PAYLOAD = "/ask_phone";
  var STARTER_PAYLOAD = "/ask_procedure"; // 「手続きをさがす」 with nothing named: the menu of data/menu.yml
  var FEEDBACK_PAYLOAD = /^\/feedback\s*\{\s*"helpful"\s*:\s*(true|false)\s*\}\s*$/;
  var URL_PATTERN = /https?:\/\/[^\s<>"'`、。「」（）()［］\[\]{}]+/g;
  // Phone numbers in message text (no lookbehind: older Safari cannot parse it). Group 1 is the character
  // before the number (or nothing), group 2 the number: a Japanese number with hyphens (012-345-6701,
  // 0570-783-556, 090-1234-5678, 0570-078374), a # short number (#8008, #7119), or 110 / 119 / 189 / 118 /
  // 171 written as 「119番」「119 番へ」. Digits inside dates, prices, postal codes (two groups, 7 digits),
  // 受付番号 (after a letter or hyphen) and URLs (matched first) are not phone numbers.
  var PHONE_PATTERN = new RegExp(
    "(^|[^0-9A-Za-z\\-－_/#＃.])" +
      "(0\\d{1,4}[-－]\\d{1,4}[-－]\\d{3,4}|0\\d{3}[-－]\\d{6}|[#＃]\\d{4}|(?:110|119|189|118|171)(?=\\s?番))" +
      "(?![0-9０-９\\-－])",
    "g"
  );
  var PHONE_DIGITS = { min: 10, max: 11 }; // a Japanese number with an area or service code has 10 or 11 digits
  // ASCII spaces after a Japanese sentence end (「取れます。 詳しくは」): shown as nothing. Spaces between
  // words, as やさしい日本語 writes them (「市民課で もらえます」), are kept.
  var STRAY_SPACE = /([。！？」）])[ \t]+(?=[^\x00-\x7F])/g;
  var TICKET_PATTERN = /[A-Z]{2,4}-[0-9]{8}-[0-9]{3,6}/g;
  var CARD_PHONE = /^[#＃]?[0-9][0-9\-－]{1,15}$/;
  var LANG_TAG = /^[a-z]{2,3}$/;
  // The widget's language switch: what it may send as metadata.lang (bot/channels/web.py CHOSEN_LANGUAGES);
  // each is named in its own language (ja.json lang_<code>).
  var LANGUAGES = ["ja", "en", "zh", "ko", "vi", "pt", "tl", "ne"];
  var CHOICE_SELECTOR = ".mdg-call, .mdg-choices button:not([disabled]), .mdg-choices a[href]";
  var ID = "mdg-" + Math.random().toString(36).slice(2, 8);
  // How the widget shows each custom.madoguchi card kind (bot/dialogue/cards.py CARD_TYPES;
  // tests/test_cards.py fails when a kind is missing). "text": the card's own message (text + buttons,
  // which Rasa sends just before the card) is what the resident sees; "calls": large tel: buttons for the
  // card's phones under that text. A kind not listed here is ignored.
  var CARD_RENDERING = {
    procedure: "text",
    details: "text",
    online: "text",
    checklist: "text",
    clarify: "text",
    menu: "text",
    faq: "text",
    suggestions: "text",
    fallback: "text",
    safety: "calls",
    callback_form: "text",
    callback: "text",
    phone: "text",
  };

  var baseUrl = new URL(".", script.src);
  var config = {
    server: (script.dataset.server || window.location.origin).replace(/\/+$/, ""),
    phone: script.dataset.phone || "",
  };

  // --- small DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else if (name === "className") {
        node.className = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(child);
      }
    });
    return node;
  }

  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    phone:
      "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25c1.1.37 2.3.57 3.6.57a1 1 0 0 1 1 1V20a1 1 0 0 1-1 1" +
      "A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
    thumb:
      "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l.95-4.57.03-.32a1.5 1.5 0 0 0-.44-1.06L13.17 1 6.6 7.59" +
      "A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
  };

  /** A decorative inline SVG icon (hidden from assistive technology; the control has its own text). */
  function icon(name, flipped) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "mdg-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    if (flipped) {
      path.setAttribute("transform", "rotate(180 12 12)");
    }
    svg.appendChild(path);
    return svg;
  }

  function hiddenText(text) {
    // the widget's own words are Japanese, also inside an answer marked as English
    return el("span", { className: "mdg-sr", lang: "ja", text: text });
  }

  function httpUrl(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // --- session state (sessionStorage only) ----------------------------------------------------------

  function newSender() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function freshState() {
    return { sender: newSender(), messages: [], settings: { size: "normal", yasashii: false, furigana: false } };
  }

  function loadState() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.messages) && saved.settings) {
        return saved;
      }
    } catch (e) {
      /* unreadable or unavailable storage: start afresh */
    }
    return freshState();
  }

  /** The language chosen in the switch, when it is not Japanese (sent as metadata.lang), else null. */
  function chosenLanguage(settings) {
    return settings.lang && settings.lang !== "ja" && LANGUAGES.indexOf(settings.lang) !== -1 ? settings.lang : null;
  }

  function saveState(state) {
    try {
      state.messages = state.messages.slice(-MAX_KEPT_MESSAGES);
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) {
      /* storage full or blocked: the conversation still works, it just does not survive a reload */
    }
  }

  // --- bot message cleaning ------------------------------------------------------------------------

  function cleanFurigana(segments, text) {
    if (!Array.isArray(segments)) {
      return null;
    }
    var ok = segments.every(function (s) {
      return Array.isArray(s) && typeof s[0] === "string" && (s[1] === null || typeof s[1] === "string");
    });
    if (!ok || segments.map(function (s) { return s[0]; }).join("") !== text) {
      return null; // segments must rebuild the text exactly, or they are ignored
    }
    return segments.map(function (s) { return [s[0], s[1]]; });
  }

  function cleanButtons(buttons) {
    if (!Array.isArray(buttons)) {
      return [];
    }
    return buttons
      .filter(function (b) {
        return b && typeof b.title === "string" && (typeof b.payload === "string" || typeof b.url === "string");
      })
      .map(function (b) {
        return { title: b.title, payload: typeof b.payload === "string" ? b.payload : null, url: b.url || null };
      });
  }

  function shortText(value, limit) {
    return typeof value === "string" && value.length <= limit ? value : null;
  }

  function cleanPhones(value) {
    var list = Array.isArray(value) ? value : [value];
    return list
      .filter(function (p) { return typeof p === "string" && CARD_PHONE.test(p); })
      .slice(0, 6);
  }

  /**
   * The structured part of a bot message (``custom.madoguchi``), reduced to the few fields the widget
   * shows; anything else in ``custom`` is dropped. Returns null when there is no usable card.
   */
  function cleanCard(custom) {
    var raw = custom && typeof custom === "object" ? custom.madoguchi : null;
    if (!raw || typeof raw !== "object" || typeof raw.kind !== "string" ||
        !Object.prototype.hasOwnProperty.call(CARD_RENDERING, raw.kind)) {
      return null;
    }
    var card = { kind: raw.kind };
    ["category", "procedure", "ticket"].forEach(function (name) {
      var value = shortText(raw[name], 80);
      if (value) {
        card[name] = value;
      }
    });
    if (card.kind === "procedure") {
      // both versions of the summary sentence, so that the やさしい日本語 switch can swap them in place
      ["summary", "summary_easy"].forEach(function (name) {
        var value = shortText(raw[name], 600);
        if (value) {
          card[name] = value;
        }
      });
      var standard = cleanFields(raw);
      var easy = cleanFields(raw.easy_fields);
      var name = shortText(raw.name, 120);
      if (name && standard && easy) {
        // every field in both versions: the card is drawn from its fields, as the switch asks
        card.name = name;
        card.fields = { standard: standard, easy: easy };
        card.readings = cleanReadings(raw.furigana, raw);
      }
    }
    if (card.kind === "callback" && card.ticket) {
      // the 受付番号 as residents read it out: the day of the request and its number of that day
      var number = typeof raw.number === "string" && /^[0-9]{1,6}$/.test(raw.number) ? raw.number : null;
      var day = shortText(raw.received_label, 40);
      if (number && day) {
        card.number = number;
        card.receivedLabel = day;
        card.callWhen = shortText(raw.call_when, 120);
      }
    }
    var phones = cleanPhones(raw.phones || raw.phone || []);
    if (phones.length) {
      card.phones = phones;
    }
    return card;
  }

  function textList(value, limit) {
    return Array.isArray(value)
      ? value.filter(function (v) { return shortText(v, limit); }).slice(0, 12)
      : [];
  }

  /** The fields of a procedure card shown as a card (standard, or its easy_fields), or null. */
  function cleanFields(raw) {
    if (!raw || typeof raw !== "object" || !shortText(raw.summary, 600)) {
      return null;
    }
    var fields = {
      summary: raw.summary,
      deadline: shortText(raw.deadline, 400),
      bring: textList(raw.bring, 400),
      fee: shortText(raw.fee, 400),
      where: textList(raw.where, 80),
      department: null,
    };
    var dept = raw.department;
    if (dept && shortText(dept.name, 120) && cleanPhones(dept.phone).length) {
      fields.department = { name: dept.name, phone: dept.phone };
    }
    return fields;
  }

  /** Readings of a card's texts by path (bot/channels/web.py card_texts), each checked against its text. */
  function cleanReadings(raw, card) {
    var out = {};
    if (!raw || typeof raw !== "object") {
      return out;
    }
    Object.keys(raw).forEach(function (path) {
      var node = card;
      path.split(".").forEach(function (part) {
        if (node && typeof node === "object") {
          node = part === "easy" ? node.easy_fields : node[part];
        }
      });
      if (node && typeof node === "object" && typeof node.name === "string") {
        node = node.name; // a department
      }
      var segments = typeof node === "string" ? cleanFurigana(raw[path], node) : null;
      if (segments) {
        out[path] = segments;
      }
    });
    return out;
  }

  /**
   * The language of a bot message not in Japanese (``custom.madoguchi.lang``: en, zh, ko, vi, pt, tl,
   * ne, from data/languages/) and, when its lines are in different languages (a notice, then the same in
   * English), the language of each line. Any kind of card may carry it, even one the widget does not draw.
   */
  function cleanLang(custom, text) {
    var raw = custom && typeof custom === "object" ? custom.madoguchi : null;
    var lang = raw && typeof raw.lang === "string" && LANG_TAG.test(raw.lang) ? raw.lang : null;
    if (!lang) {
      return null;
    }
    var lines = Array.isArray(raw.line_langs) ? raw.line_langs : [];
    var ok = lines.length === text.split("\n").length && lines.every(function (l) {
      return typeof l === "string" && LANG_TAG.test(l);
    });
    return { lang: lang, lines: ok ? lines.slice() : null };
  }

  function cleanBotMessage(raw) {
    var text = raw && typeof raw.text === "string" ? raw.text : "";
    var buttons = cleanButtons(raw && raw.buttons);
    var card = cleanCard(raw && raw.custom);
    if (!text && !buttons.length && !card) {
      return null;
    }
    var message = { from: "bot", text: text, furigana: cleanFurigana(raw.furigana, text), buttons: buttons };
    if (card) {
      message.card = card;
    }
    var lang = cleanLang(raw && raw.custom, text);
    if (lang) {
      message.lang = lang.lang;
      message.lineLangs = lang.lines;
    }
    return message;
  }

  /**
   * Rasa's REST channel sends a response's ``custom`` as a message of its own, right after the text:
   * such a card-only message is joined to the text message before it, so the call buttons sit under the
   * text they belong to.
   */
  function joinCards(messages) {
    var joined = [];
    messages.forEach(function (m) {
      var previous = joined[joined.length - 1];
      if (m.card && !m.text && !m.buttons.length && previous && previous.text && !previous.card) {
        previous.card = m.card;
      } else {
        joined.push(m);
      }
    });
    return joined;
  }

  // --- rendering of message text -------------------------------------------------------------------

  /**
   * The text of a bot message as the やさしい日本語 switch wants it now: a procedure answer carries both
   * summary sentences in its card, and the one in the text is swapped for the other when the switch
   * changed since (the readings then no longer match that text and are left out for it).
   */
  function shownText(message, easy) {
    var card = message.card;
    if (!card || !card.summary || !card.summary_easy || card.summary === card.summary_easy) {
      return { text: message.text, furigana: message.furigana };
    }
    var want = easy ? card.summary_easy : card.summary;
    var other = easy ? card.summary : card.summary_easy;
    if (message.text.indexOf(want) !== -1 || message.text.indexOf(other) === -1) {
      return { text: message.text, furigana: message.furigana };
    }
    return { text: message.text.replace(other, want), furigana: null };
  }

  function appendPlain(parent, text) {
    text.split("\n").forEach(function (line, i) {
      if (i > 0) {
        parent.appendChild(el("br"));
      }
      line = line.replace(STRAY_SPACE, "$1");
      if (line) {
        parent.appendChild(document.createTextNode(line));
      }
    });
  }

  function appendLink(parent, href, label, strings) {
    var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer", className: "mdg-link" });
    link.appendChild(document.createTextNode(label));
    link.appendChild(hiddenText(strings.newWindow));
    parent.appendChild(link);
  }

  function rubyRanges(segments) {
    var ranges = [];
    var pos = 0;
    (segments || []).forEach(function (s) {
      if (s[1]) {
        ranges.push({ start: pos, end: pos + s[0].length, reading: s[1] });
      }
      pos += s[0].length;
    });
    return ranges;
  }

  function appendAnnotated(parent, text, offset, ranges) {
    var pos = 0;
    ranges.forEach(function (r) {
      var start = r.start - offset;
      var end = r.end - offset;
      if (start < pos || end > text.length) {
        return; // only readings that lie wholly inside this piece of text
      }
      appendPlain(parent, text.slice(pos, start));
      var ruby = el("ruby", {}, [document.createTextNode(text.slice(start, end))]);
      ruby.appendChild(el("rp", { text: "（" }));
      ruby.appendChild(el("rt", { text: r.reading }));
      ruby.appendChild(el("rp", { text: "）" }));
      parent.appendChild(ruby);
      pos = end;
    });
    appendPlain(parent, text.slice(pos));
  }

  /** ``tel:`` URI of a number as written (digits kept, # escaped: 「#8008」 is ``tel:%238008``). */
  function telHref(number) {
    var plain = number.replace(/＃/g, "#").replace(/[^0-9#+]/g, "");
    return "tel:" + plain.replace(/#/g, "%23");
  }

  /** The phone numbers in a piece of text: [{start, end, number}], in order. */
  function phoneRanges(text) {
    var found = [];
    var match;
    PHONE_PATTERN.lastIndex = 0;
    while ((match = PHONE_PATTERN.exec(text)) !== null) {
      var number = match[2];
      var digits = number.replace(/[^0-9]/g, "").length;
      var hyphenated = /[-－]/.test(number);
      if (!hyphenated || (digits >= PHONE_DIGITS.min && digits <= PHONE_DIGITS.max)) {
        var start = match.index + match[1].length;
        found.push({ start: start, end: start + number.length, number: number });
      }
    }
    return found;
  }

  function appendTel(parent, number) {
    parent.appendChild(el("a", { href: telHref(number), className: "mdg-tel", text: number }));
  }

  /** Text with its phone numbers as tel: links (readings kept for the rest). */
  function appendWithPhones(parent, text, offset, ranges) {
    var pos = 0;
    phoneRanges(text).forEach(function (p) {
      appendAnnotated(parent, text.slice(pos, p.start), offset + pos, ranges);
      appendTel(parent, p.number);
      pos = p.end;
    });
    appendAnnotated(parent, text.slice(pos), offset + pos, ranges);
  }

  /** Text with 受付番号 (CB-20261202-0001) emphasised and kept on one line, and phone numbers as links. */
  function appendTokens(parent, text, offset, ranges) {
    var pos = 0;
    var match;
    TICKET_PATTERN.lastIndex = 0;
    while ((match = TICKET_PATTERN.exec(text)) !== null) {
      appendWithPhones(parent, text.slice(pos, match.index), offset + pos, ranges);
      parent.appendChild(el("strong", { className: "mdg-ticket", text: match[0] }));
      pos = match.index + match[0].length;
    }
    appendWithPhones(parent, text.slice(pos), offset + pos, ranges);
  }

  function renderRichText(parent, text, segments, strings) {
    var ranges = rubyRanges(segments);
    var pos = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var href = httpUrl(match[0]);
      if (!href) {
        continue;
      }
      appendTokens(parent, text.slice(pos, match.index), pos, ranges);
      appendLink(parent, href, match[0], strings);
      pos = match.index + match[0].length;
    }
    appendTokens(parent, text.slice(pos), pos, ranges);
  }

  // --- the widget ----------------------------------------------------------------------------------

  function Widget(strings) {
    this.strings = strings;
    this.state = loadState();
    this.pending = false;
    this.build();
  }

  Widget.prototype.build = function () {
    var s = this.strings;
    var self = this;
    this.root = el("div", { className: "mdg-root", lang: "ja" });
    this.launcher = el("button", {
      type: "button",
      className: "mdg-launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": ID + "-panel",
    }, [icon("chat"), el("span", { text: s.launcher })]);
    this.launcher.addEventListener("click", function () { self.open(); });

    this.panel = el("div", {
      id: ID + "-panel",
      className: "mdg-panel",
      role: "dialog",
      "aria-modal": "true",
      "aria-labelledby": ID + "-title",
      "aria-describedby": ID + "-notice",
      hidden: true,
    });
    this.panel.addEventListener("keydown", function (event) { self.onPanelKey(event); });

    this.panel.appendChild(this.buildHeader());
    this.panel.appendChild(this.buildSettings());

    this.log = el("div", { className: "mdg-log", role: "log", "aria-live": "polite", "aria-label": s.logLabel, tabindex: "0" });
    this.renderIntro();
    this.state.messages.forEach(function (m) { self.log.appendChild(self.renderMessage(m)); });
    this.panel.appendChild(this.log);

    this.typing = el("div", { className: "mdg-typing", role: "status" });
    this.panel.appendChild(this.typing);
    this.panel.appendChild(this.buildComposer());

    this.applySettings();
    this.root.appendChild(this.launcher);
    this.root.appendChild(this.panel);
    document.body.appendChild(this.root);
  };

  Widget.prototype.buildHeader = function () {
    var s = this.strings;
    var self = this;
    var close = el("button", { type: "button", className: "mdg-close" }, [
      el("span", { "aria-hidden": "true", text: "×" }),
      el("span", { text: s.close }),
    ]);
    close.addEventListener("click", function () { self.close(); });
    this.settingsToggle = el("button", {
      type: "button",
      className: "mdg-settings-toggle",
      "aria-expanded": "false",
      "aria-controls": ID + "-settings",
    }, [el("span", { text: s.settingsLabel })]);
    this.settingsToggle.addEventListener("click", function () { self.toggleSettings(); });
    return el("div", { className: "mdg-header" }, [
      el("h2", { id: ID + "-title", className: "mdg-title", text: s.title }),
      this.settingsToggle,
      close,
    ]);
  };

  /** The display settings, folded behind one 「表示の設定」 button; 会話を消去 lives here, far from 閉じる. */
  Widget.prototype.buildSettings = function () {
    var s = this.strings;
    var self = this;
    this.sizeButtons = {};
    var sizeGroup = el("div", { className: "mdg-size", role: "group", "aria-labelledby": ID + "-size" }, [
      el("span", { id: ID + "-size", className: "mdg-size-label", text: s.textSize }),
    ]);
    [["normal", s.sizeNormal], ["large", s.sizeLarge]].forEach(function (pair) {
      var button = el("button", { type: "button", className: "mdg-toggle", "aria-pressed": "false", text: pair[1] });
      button.addEventListener("click", function () { self.setSetting("size", pair[0]); });
      self.sizeButtons[pair[0]] = button;
      sizeGroup.appendChild(button);
    });

    this.switches = {};
    ["yasashii", "furigana"].forEach(function (name) {
      var sw = el("button", { type: "button", role: "switch", className: "mdg-switch", "aria-checked": "false" }, [
        el("span", { className: "mdg-switch-track", "aria-hidden": "true" }),
        el("span", { text: s[name] }),
      ]);
      sw.addEventListener("click", function () { self.setSetting(name, !self.state.settings[name]); });
      self.switches[name] = sw;
    });

    this.settings = el("div", {
      id: ID + "-settings",
      className: "mdg-settings",
      role: "group",
      "aria-label": s.settingsLabel,
      hidden: true,
    }, [sizeGroup, this.switches.yasashii, this.switches.furigana, this.buildLanguage(), this.buildClear()]);
    return this.settings;
  };

  /**
   * 言語 / Language: each language named in itself. The choice goes to the server as metadata.lang and
   * decides the answer's language where the words alone do not tell (bot/language.py); the answers in
   * that language are marked with it (lang attributes).
   */
  Widget.prototype.buildLanguage = function () {
    var s = this.strings;
    var self = this;
    var names = {
      ja: s.lang_ja, en: s.lang_en, zh: s.lang_zh, ko: s.lang_ko, vi: s.lang_vi, pt: s.lang_pt, tl: s.lang_tl, ne: s.lang_ne,
    };
    this.languageSelect = el("select", { id: ID + "-lang", className: "mdg-lang" });
    LANGUAGES.forEach(function (code) {
      self.languageSelect.appendChild(el("option", { value: code, lang: code, text: names[code] }));
    });
    this.languageSelect.addEventListener("change", function () {
      self.setSetting("lang", self.languageSelect.value);
    });
    return el("div", { className: "mdg-lang-box" }, [
      el("label", { for: ID + "-lang", className: "mdg-size-label", text: s.languageLabel }),
      this.languageSelect,
    ]);
  };

  /** 会話を消去, which asks first (a resident may be in the middle of a callback request). */
  Widget.prototype.buildClear = function () {
    var s = this.strings;
    var self = this;
    var clear = el("button", { type: "button", className: "mdg-clear", text: s.clear });
    var yes = el("button", { type: "button", className: "mdg-clear-yes", text: s.clearYes });
    var no = el("button", { type: "button", className: "mdg-clear-no", text: s.clearNo });
    var confirm = el("div", {
      className: "mdg-clear-confirm",
      role: "group",
      "aria-labelledby": ID + "-clearq",
      hidden: true,
    }, [
      el("span", { id: ID + "-clearq", className: "mdg-clear-q", text: s.clearQuestion }),
      yes,
      no,
    ]);
    clear.addEventListener("click", function () {
      clear.hidden = true;
      confirm.hidden = false;
      no.focus(); // the safe answer is the one under the finger
    });
    function fold() {
      confirm.hidden = true;
      clear.hidden = false;
    }
    no.addEventListener("click", function () {
      fold();
      clear.focus();
    });
    yes.addEventListener("click", function () {
      fold();
      self.clearConversation();
    });
    this.foldClear = fold;
    return el("div", { className: "mdg-clear-box" }, [clear, confirm]);
  };

  Widget.prototype.toggleSettings = function (open) {
    var show = open === undefined ? this.settings.hidden : open;
    this.settings.hidden = !show;
    this.settingsToggle.setAttribute("aria-expanded", String(show));
    if (!show) {
      this.foldClear();
    }
    this.showNewest();
  };

  Widget.prototype.buildComposer = function () {
    var s = this.strings;
    var self = this;
    var phone = el("button", { type: "button", className: "mdg-phone" }, [icon("phone"), el("span", { text: s.phone })]);
    phone.addEventListener("click", function () { self.sendPayload(PHONE_PAYLOAD, s.phone); });

    this.input = el("textarea", {
      id: ID + "-input",
      className: "mdg-input",
      rows: "1",
      maxlength: String(MAX_MESSAGE_CHARS),
      placeholder: s.placeholder,
      autocomplete: "off",
      "aria-describedby": ID + "-hint",
    });
    this.input.addEventListener("keydown", function (event) { self.onInputKey(event); });
    this.input.addEventListener("input", function () { self.fitInput(); });
    this.sendButton = el("button", { type: "submit", className: "mdg-send", text: s.send });
    this.skipButton = el("button", { type: "button", className: "mdg-skip", text: s.skipToChoices, hidden: true });
    this.skipButton.addEventListener("click", function () { self.focusNewestChoice(); });
    var form = el("form", { className: "mdg-form", novalidate: true }, [
      el("div", { className: "mdg-composer-top" }, [
        el("label", { className: "mdg-input-label", for: ID + "-input" }, [
          el("span", { text: s.inputLabel }),
          el("span", { id: ID + "-hint", className: "mdg-input-hint", text: s.inputHint }),
        ]),
        phone,
      ]),
      el("div", { className: "mdg-input-row" }, [this.skipButton, this.input, this.sendButton]),
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.sendTyped();
    });
    return el("div", { className: "mdg-composer" }, [form]);
  };

  /** The text box is one line until the resident types more; it grows up to MAX_INPUT_SHARE of the panel. */
  Widget.prototype.fitInput = function () {
    var input = this.input;
    input.style.height = "";
    if (!input.value) {
      return;
    }
    var limit = Math.max(input.offsetHeight, this.panel.clientHeight * MAX_INPUT_SHARE);
    input.style.height = Math.min(input.scrollHeight + 4, limit) + "px";
  };

  // --- settings ------------------------------------------------------------------------------------

  Widget.prototype.setSetting = function (name, value) {
    this.state.settings[name] = value;
    saveState(this.state);
    if (name === "yasashii") {
      this.rerenderSummaries();
      this.addNotice(value ? this.strings.yasashiiOn : this.strings.yasashiiOff);
    }
    this.applySettings();
  };

  Widget.prototype.applySettings = function () {
    var settings = this.state.settings;
    var self = this;
    this.root.classList.toggle("mdg-large", settings.size === "large");
    this.root.classList.toggle("mdg-ruby-on", !!settings.furigana);
    Object.keys(this.sizeButtons).forEach(function (size) {
      self.sizeButtons[size].setAttribute("aria-pressed", String(settings.size === size));
    });
    Object.keys(this.switches).forEach(function (name) {
      self.switches[name].setAttribute("aria-checked", String(!!settings[name]));
    });
    this.languageSelect.value = LANGUAGES.indexOf(settings.lang) !== -1 ? settings.lang : "ja";
    this.fitInput();
    this.showNewest(); // a larger text pushes the newest message down: bring it back into view
  };

  /** Scrolls the log so that the newest message is in view (its start, when it is taller than the log). */
  Widget.prototype.showNewest = function () {
    var last = this.log.lastElementChild;
    if (!last) {
      return;
    }
    var view = this.log.clientHeight;
    this.log.scrollTop = last.offsetHeight > view ? last.offsetTop - 8 : this.log.scrollHeight;
  };

  /** Renders again the procedure answers already shown, in the version the switch now asks for. */
  Widget.prototype.rerenderSummaries = function () {
    var self = this;
    Array.prototype.forEach.call(this.log.querySelectorAll(".mdg-bot"), function (node) {
      var message = node.mdgMessage;
      if (message && message.card && (message.card.fields || message.card.summary_easy)) {
        node.replaceWith(self.renderMessage(message));
      }
    });
  };

  // --- dialog behaviour ----------------------------------------------------------------------------

  Widget.prototype.open = function () {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.hidden = true;
    document.documentElement.classList.add("mdg-dialog-open");
    this.scrollToEnd();
    this.input.focus();
    this.offerStarters();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    document.documentElement.classList.remove("mdg-dialog-open");
    this.launcher.focus();
  };

  Widget.prototype.focusables = function () {
    var nodes = this.panel.querySelectorAll(
      "button:not([disabled]), a[href], textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"
    );
    return Array.prototype.filter.call(nodes, function (node) {
      return node.offsetParent !== null || node === document.activeElement;
    });
  };

  Widget.prototype.onPanelKey = function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    var items = this.focusables();
    if (!items.length) {
      return;
    }
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !this.panel.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  Widget.prototype.onInputKey = function (event) {
    if (event.key !== "Enter" || event.shiftKey) {
      return; // Shift+Enter: a new line
    }
    if (event.isComposing || event.keyCode === 229) {
      return; // Enter that confirms an IME conversion never sends
    }
    event.preventDefault();
    this.sendTyped();
  };

  // --- conversation --------------------------------------------------------------------------------

  /** The notice (it describes the dialog) and the greeting at the top of the log; they scroll away. */
  Widget.prototype.renderIntro = function () {
    this.log.appendChild(el("p", { id: ID + "-notice", className: "mdg-notice", text: this.strings.notice }));
    this.log.appendChild(el("div", { className: "mdg-msg mdg-bot mdg-welcome" }, [
      hiddenText(this.strings.speakerBot),
      el("p", { className: "mdg-text", text: this.strings.welcome }),
    ]));
  };

  Widget.prototype.renderMessage = function (message) {
    var s = this.strings;
    if (message.from === "user") {
      return el("div", { className: "mdg-msg mdg-user" }, [
        hiddenText(s.speakerUser),
        el("p", { className: "mdg-text", text: message.text }),
      ]);
    }
    var node = el("div", { className: "mdg-msg mdg-bot" + (message.starter ? " mdg-starter" : "") }, [
      hiddenText(s.speakerBot),
    ]);
    node.mdgMessage = message;
    if (message.card && message.card.fields) {
      node.appendChild(this.renderProcedure(message.card));
    } else if (message.text && message.lineLangs) {
      // lines in different languages: each marked with its own, so that it is read out in it
      var para = el("p", { className: "mdg-text" });
      message.text.split("\n").forEach(function (line, i) {
        if (i > 0) {
          para.appendChild(el("br"));
        }
        var span = el("span", { lang: message.lineLangs[i] });
        renderRichText(span, line, null, s);
        para.appendChild(span);
      });
      node.appendChild(para);
    } else if (message.text) {
      var shown = shownText(message, !!this.state.settings.yasashii);
      var p = el("p", { className: "mdg-text" });
      renderRichText(p, shown.text, shown.furigana, s);
      node.appendChild(p);
    }
    if (message.lang && message.lang !== "ja") {
      node.setAttribute("data-lang", message.lang);
    }
    if (message.card && message.card.number) {
      node.appendChild(this.renderTicket(message.card));
    }
    if (message.card && CARD_RENDERING[message.card.kind] === "calls" && message.card.phones) {
      node.classList.add("mdg-safety");
      node.appendChild(this.renderCalls(message.card.phones));
    }
    this.renderButtons(node, message);
    if (message.lang && message.lang !== "ja") {
      // the answer's words in its language; the widget's own labels (speaker, group names) stay Japanese
      Array.prototype.forEach.call(node.querySelectorAll(".mdg-text, .mdg-choice, .mdg-choice-link, .mdg-choice-text"), function (n) {
        if (!n.hasAttribute("lang")) {
          n.setAttribute("lang", message.lang);
        }
      });
    }
    if (message.card && message.card.kind === "checklist") {
      node.appendChild(this.renderPrint(node));
    }
    return node;
  };

  /**
   * 「このリストを印刷」 under a checklist: prints that answer alone (the print stylesheet hides the rest
   * of the conversation, the controls and the composer while the root has mdg-printing-one).
   */
  Widget.prototype.renderPrint = function (node) {
    var root = this.root;
    var button = el("button", { type: "button", className: "mdg-print", text: this.strings.printChecklist });
    button.addEventListener("click", function () {
      root.classList.add("mdg-printing-one");
      node.classList.add("mdg-print-this");
      window.addEventListener("afterprint", function () {
        root.classList.remove("mdg-printing-one");
        node.classList.remove("mdg-print-this");
      }, { once: true });
      window.print();
    });
    return button;
  };

  /**
   * A procedure answer drawn from its card's fields: the name, the summary, then each field with a bold
   * label — all in やさしい日本語 when the switch is on (``data-variant`` says which version is shown).
   */
  Widget.prototype.renderProcedure = function (card) {
    var s = this.strings;
    var easy = !!this.state.settings.yasashii;
    var variant = easy ? "easy" : "standard";
    var fields = card.fields[variant];
    var prefix = easy ? "easy." : "";
    var readings = card.readings || {};
    var labels = easy
      ? { deadline: s.cardDeadlineEasy, bring: s.cardBringEasy, fee: s.cardFeeEasy, where: s.cardWhereEasy, department: s.cardDepartmentEasy }
      : { deadline: s.cardDeadline, bring: s.cardBring, fee: s.cardFee, where: s.cardWhere, department: s.cardDepartment };
    function rich(tag, className, text, path) {
      var node = el(tag, { className: className });
      renderRichText(node, text, readings[path] || null, s);
      return node;
    }
    var box = el("div", { className: "mdg-card", "data-variant": variant }, [
      el("p", { className: "mdg-card-title" }, [rich("strong", "", card.name, "name")]),
      rich("p", "mdg-card-summary", fields.summary, prefix + "summary"),
    ]);
    var list = el("dl", { className: "mdg-fields" });
    function row(name, value) {
      list.appendChild(el("div", { className: "mdg-field", "data-field": name }, [
        el("dt", { text: labels[name] }),
        value,
      ]));
    }
    if (fields.deadline) {
      row("deadline", rich("dd", "", fields.deadline, prefix + "deadline"));
    }
    if (fields.bring.length) {
      var items = el("ul", { className: "mdg-bring" });
      fields.bring.forEach(function (item, i) { items.appendChild(rich("li", "", item, prefix + "bring." + i)); });
      row("bring", el("dd", {}, [items]));
    }
    if (fields.fee) {
      row("fee", rich("dd", "", fields.fee, prefix + "fee"));
    }
    if (fields.where.length) {
      var places = el("dd");
      fields.where.forEach(function (place, i) {
        if (i > 0) {
          places.appendChild(document.createTextNode(s.listSeparator));
        }
        renderRichText(places, place, readings[prefix + "where." + i] || null, s);
      });
      row("where", places);
    }
    if (fields.department) {
      var dept = rich("dd", "", fields.department.name, prefix + "department");
      dept.appendChild(document.createTextNode(" "));
      appendTel(dept, fields.department.phone);
      row("department", dept);
    }
    box.appendChild(list);
    return box;
  };

  /**
   * The 受付番号 of a callback request, to be read out over the phone: the day it was made and its
   * number of that day in large type, never broken, then when the city will call.
   */
  Widget.prototype.renderTicket = function (card) {
    var s = this.strings;
    var box = el("div", { className: "mdg-ticket-box", role: "group", "aria-label": s.ticketLabel, "data-ticket": card.ticket }, [
      el("p", { className: "mdg-ticket-label", text: s.ticketLabel }),
      el("p", { className: "mdg-ticket-line" }, [
        el("span", { className: "mdg-ticket-day", text: card.receivedLabel }),
        el("strong", { className: "mdg-ticket", text: card.number }),
      ]),
    ]);
    if (card.callWhen) {
      box.appendChild(el("p", { className: "mdg-ticket-call" }, [
        el("span", { className: "mdg-ticket-label", text: s.ticketCallWhen }),
        el("span", { text: card.callWhen }),
      ]));
    }
    return box;
  };

  /** Large call buttons (one per number) for a safety answer, right under its text. */
  Widget.prototype.renderCalls = function (phones) {
    var s = this.strings;
    var group = el("div", { className: "mdg-calls", role: "group", "aria-label": s.callsLabel });
    phones.forEach(function (phone) {
      group.appendChild(el("a", { href: telHref(phone), className: "mdg-call" }, [
        icon("phone"),
        el("span", { text: s.callButton.replace("{phone}", phone) }),
      ]));
    });
    return group;
  };

  Widget.prototype.renderButtons = function (node, message) {
    var s = this.strings;
    var self = this;
    var choices = [];
    var feedback = [];
    (message.buttons || []).forEach(function (b) {
      var helpful = b.payload && FEEDBACK_PAYLOAD.exec(b.payload);
      if (helpful) {
        feedback.push({ button: b, helpful: helpful[1] === "true" });
      } else {
        choices.push(b);
      }
    });
    if (choices.length) {
      var group = el("div", { className: "mdg-choices", role: "group", "aria-label": s.choicesLabel });
      choices.forEach(function (b) { group.appendChild(self.renderChoice(b)); });
      node.appendChild(group);
    }
    if (feedback.length) {
      node.appendChild(this.renderFeedback(feedback, message));
    }
  };

  Widget.prototype.renderChoice = function (b) {
    var self = this;
    var href = httpUrl(b.url || b.payload || "");
    if (href) {
      var wrap = el("span", { className: "mdg-choice-link" });
      appendLink(wrap, href, b.title, this.strings);
      return wrap;
    }
    if (!b.payload || /^[a-z][a-z0-9+.-]*:/i.test(b.payload)) {
      // a non-http(s) URL (javascript:, data:, …) is never a link nor a button: its title is shown as text
      return el("span", { className: "mdg-choice-text", text: b.title });
    }
    var button = el("button", { type: "button", className: "mdg-choice", "data-payload": b.payload, text: b.title });
    button.addEventListener("click", function () { self.sendPayload(b.payload, b.title); });
    return button;
  };

  Widget.prototype.renderFeedback = function (feedback, message) {
    var s = this.strings;
    var self = this;
    var qid = ID + "-fb-" + Math.random().toString(36).slice(2, 8);
    // When the bot's own text already asks the question, the label is for screen readers only.
    var labelClass = message.text ? "mdg-sr" : "mdg-feedback-q";
    var group = el("div", { className: "mdg-feedback", role: "group", "aria-labelledby": qid }, [
      el("span", { id: qid, className: labelClass, text: s.feedbackQuestion }),
    ]);
    feedback.forEach(function (f) {
      var name = f.helpful ? s.feedbackYes : s.feedbackNo;
      var button = el("button", {
        type: "button",
        className: "mdg-feedback-btn",
        "aria-pressed": message.feedbackGiven === f.helpful ? "true" : "false",
        disabled: message.feedbackGiven !== undefined,
      }, [icon("thumb", !f.helpful), el("span", { text: name })]);
      button.addEventListener("click", function () {
        message.feedbackGiven = f.helpful;
        saveState(self.state);
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (other) {
          other.disabled = true;
        });
        button.setAttribute("aria-pressed", "true");
        self.input.focus();
        self.deliver(f.button.payload);
      });
      group.appendChild(button);
    });
    return group;
  };

  Widget.prototype.addMessage = function (message, persist) {
    if (persist) {
      this.state.messages.push(message);
      saveState(this.state);
    }
    var node = this.renderMessage(message);
    this.log.appendChild(node);
    this.scrollToEnd();
    return node;
  };

  Widget.prototype.addNotice = function (text, className) {
    var node = el("div", { className: "mdg-msg mdg-notice-msg " + (className || "") }, [el("p", { text: text })]);
    this.log.appendChild(node);
    this.scrollToEnd();
    return node;
  };

  Widget.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.sendTyped = function () {
    var text = this.input.value.trim();
    if (!text || this.pending) {
      return;
    }
    this.input.value = "";
    this.fitInput();
    this.addMessage({ from: "user", text: text }, true);
    this.deliver(text);
  };

  Widget.prototype.sendPayload = function (payload, label) {
    if (this.pending) {
      return;
    }
    this.addMessage({ from: "user", text: label }, true);
    this.deliver(payload);
  };

  Widget.prototype.setPending = function (pending) {
    this.pending = pending;
    this.sendButton.setAttribute("aria-disabled", String(pending));
    this.log.setAttribute("aria-busy", String(pending));
    this.typing.textContent = "";
    if (pending) {
      this.typing.appendChild(el("span", { text: this.strings.typing }));
      this.typing.appendChild(el("span", { className: "mdg-dots", "aria-hidden": "true" }, [
        el("span"), el("span"), el("span"),
      ]));
    }
  };

  Widget.prototype.request = function (message) {
    var settings = this.state.settings;
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    return fetch(config.server + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        sender: this.state.sender,
        message: message,
        // readings are always asked for, so that the ふりがな switch shows them on every message already
        // in the log (it only shows or hides them); yasashii is the resident's choice for the next answers
        metadata: chosenLanguage(settings)
          ? { yasashii: !!settings.yasashii, furigana: true, lang: settings.lang }
          : { yasashii: !!settings.yasashii, furigana: true },
      }),
      signal: controller.signal,
      credentials: "omit",
    })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok || !Array.isArray(body)) {
            var error = new Error("request failed");
            error.code = body && typeof body.code === "string" ? body.code : "http_" + response.status;
            throw error;
          }
          return joinCards(body.map(cleanBotMessage).filter(Boolean));
        });
      })
      .then(
        function (messages) {
          window.clearTimeout(timer);
          return messages;
        },
        function (error) {
          window.clearTimeout(timer);
          throw error;
        }
      );
  };

  Widget.prototype.deliver = function (message) {
    var self = this;
    this.setPending(true);
    return this.request(message)
      .then(function (messages) {
        var nodes = messages.map(function (m) { return self.addMessage(m, true); });
        var first = nodes[0];
        self.offerChoices(nodes);
        if (!first) {
          self.addNotice(self.strings.noAnswer);
        } else if (self.log.scrollHeight - first.offsetTop > self.log.clientHeight) {
          self.log.scrollTop = first.offsetTop - 8; // a long answer: show where it starts
        }
      })
      .catch(function (error) {
        self.showError(error && error.code, message);
      })
      .then(function () {
        self.setPending(false);
      });
  };

  /**
   * Starter buttons on first opening: the bot's own 「手続きをさがす」 answer (the procedures of
   * data/menu.yml, named as in the catalog), asked once per conversation and shown without a question
   * bubble. It never blocks typing; if the resident asks first, or the server does not answer, the
   * starters are simply not shown.
   */
  Widget.prototype.offerStarters = function () {
    var self = this;
    if (this.state.startersShown || this.startersAsked || this.state.messages.length) {
      return;
    }
    this.startersAsked = true;
    this.request(STARTER_PAYLOAD)
      .then(function (messages) {
        if (self.state.messages.length || !messages.length) {
          return;
        }
        self.state.startersShown = true;
        var nodes = messages.map(function (m) {
          m.starter = true;
          return self.addMessage(m, true);
        });
        self.offerChoices(nodes);
      })
      .catch(function () {
        self.startersAsked = false; // asked again at the next opening
      });
  };

  /**
   * New choices in the answer just shown: they take the focus when the resident asked by pressing a
   * button (focus is not in the text box); otherwise a 「選択肢へ」 shortcut, one Shift+Tab before the
   * text box, leads to them.
   */
  Widget.prototype.offerChoices = function (nodes) {
    var choice = null;
    nodes.some(function (node) {
      choice = node.querySelector(CHOICE_SELECTOR);
      return !!choice;
    });
    this.latestChoice = choice;
    this.skipButton.hidden = !choice;
    if (choice && document.activeElement !== this.input) {
      choice.focus();
    }
  };

  Widget.prototype.focusNewestChoice = function () {
    if (this.latestChoice && this.log.contains(this.latestChoice)) {
      this.latestChoice.scrollIntoView({ block: "nearest" });
      this.latestChoice.focus();
    }
  };

  Widget.prototype.showError = function (code, message) {
    var s = this.strings;
    var self = this;
    if (code === "message_too_long") {
      this.addNotice(s.errorTooLong, "mdg-error");
      return;
    }
    var box = el("div", { className: "mdg-msg mdg-notice-msg mdg-error" }, [el("p", { text: s.errorUnreachable })]);
    if (config.phone) {
      var phoneLine = el("p", { text: s.errorPhone });
      appendTel(phoneLine, config.phone);
      box.appendChild(phoneLine);
    }
    // the server may be down while a resident types a crisis: 119 / 110 are always one tap away
    var emergency = el("p", { className: "mdg-emergency" });
    renderRichText(emergency, s.errorEmergency, null, s);
    box.appendChild(emergency);
    var retry = el("button", { type: "button", className: "mdg-retry", text: s.retry });
    retry.addEventListener("click", function () {
      if (self.pending) {
        return;
      }
      box.remove();
      self.input.focus();
      self.deliver(message);
    });
    box.appendChild(retry);
    this.log.appendChild(box);
    this.scrollToEnd();
  };

  Widget.prototype.clearConversation = function () {
    try {
      window.sessionStorage.removeItem(STORE_KEY);
    } catch (e) {
      /* nothing stored */
    }
    var settings = this.state.settings;
    this.state = freshState();
    this.state.settings = settings;
    saveState(this.state);
    this.log.textContent = "";
    this.latestChoice = null;
    this.skipButton.hidden = true;
    this.renderIntro();
    this.addNotice(this.strings.cleared);
    this.input.focus();
    this.startersAsked = false;
    this.offerStarters();
  };

  // --- start-up ------------------------------------------------------------------------------------

  function loadStyles() {
    return new Promise(function (resolve) {
      var link = el("link", { rel: "stylesheet", href: new URL("madoguchi-widget.css", baseUrl).href });
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve); // unstyled but usable
      document.head.appendChild(link);
    });
  }

  function loadStrings() {
    return fetch(new URL("i18n/ja.json", baseUrl).href, { credentials: "omit" }).then(function (response) {
      if (!response.ok) {
        throw new Error("madoguchi widget: cannot load i18n/ja.json (HTTP " + response.status + ")");
      }
      return response.json();
    });
  }

  function start() {
    Promise.all([loadStrings(), loadStyles()])
      .then(function (results) {
        window.madoguchiWidget = new Widget(results[0]);
      })
      .catch(function (error) {
        // Without its strings the widget would have unlabelled controls: better not to show it.
        window.console.error(error);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
