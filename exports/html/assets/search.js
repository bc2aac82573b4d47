// mxarchive HTML export: search over the static index in search/ (written by HTMLSearchIndexWriter; the
// layout is described in HTMLSearchEncoding.swift). index.html loads only search/meta.js; a query loads
// the fragment files of its terms, newest segment first and older ones only while it needs more results
// (the rarest group of the query first, the others only in the segments where it has messages), then
// the summary chunks of the results it shows. Files are loaded as <script src> (works from file://
// under the page's CSP, script-src 'self'); results are built with createElement/textContent only, so
// message text can never become markup. Nothing is fetched but the export's own files.
//
// Queries: words are AND-ed, word* is a prefix (two characters at least), "two words" a phrase, and
// from:@user keeps one sender's messages. Words are split as the archive's index splits them (Xapian's
// term generator: case-folded words, CJK text as two-character grams), so a word finds the messages that
// hold it as a word; there is no stemming.
(function () {
  "use strict";
  var box = document.getElementById("mxa-search");
  var out = document.getElementById("mxa-results");
  var status = document.getElementById("mxa-search-status");
  var meta = window.mxaSearchMeta;
  if (!box || !out || !meta) return;
  var sizeParam = /[?&]n=([0-9]+)/.exec(window.location.search);
  var pageSize = sizeParam ? Math.max(1, Math.min(100000, parseInt(sizeParam[1], 10))) : 20;

  var fragments = {};  // fragment name -> Map term -> postings (empty when the file does not exist)
  var chunks = {};     // chunk number -> summaries
  var pending = {};    // file -> callbacks waiting for it
  window.mxaSearch = {
    // [term, postings, term, postings, ...]: pairs, so that a term "__proto__" is a key like any other.
    fragment: function (name, pairs) {
      var map = new Map();
      for (var i = 0; i + 1 < pairs.length; i += 2) map.set(pairs[i], pairs[i + 1]);
      fragments[name] = map;
    },
    chunk: function (number, list) { chunks[number] = list; },
    // The query tokeniser, for XapianTokenizerParityTests (which compare it with Xapian's).
    words: function (text) { return words(text); },
    // The query's groups, for XapianTokenizerParityTests (which compare them with Xapian's QueryParser).
    parse: function (query) { return parse(query); }
  };

  function load(file, isLoaded, done) {
    if (isLoaded()) { done(); return; }
    if (pending[file]) { pending[file].push(done); return; }
    pending[file] = [done];
    var script = document.createElement("script");
    var finish = function () {
      var callbacks = pending[file];
      delete pending[file];
      if (script.parentNode) script.parentNode.removeChild(script);
      for (var i = 0; i < callbacks.length; i++) callbacks[i]();
    };
    script.onload = finish;
    script.onerror = finish;  // a term no message has: its fragment file does not exist
    script.src = file;
    document.body.appendChild(script);
  }

  function loadAll(files, done) {
    var left = files.length;
    if (left === 0) { done(); return; }
    for (var i = 0; i < files.length; i++) {
      load(files[i].path, files[i].isLoaded, function () { if (--left === 0) done(); });
    }
  }

  // MARK: Words, as Xapian's term generator makes them

  var wordChar = /[\p{L}\p{N}\p{M}\p{Pc}]/u;
  var digit = /\p{Nd}/u;  // Xapian's digit infix rule is for decimal digits only (not ², not Ⅻ)
  var upper = /[A-Z]/;  // Xapian's U_isupper for initials is ASCII only ("É.T." is two words)
  // Xapian's infix characters (termgenerator_internal.cc check_infix / check_infix_digit): kept inside a
  // word between word characters; zero-width characters there are dropped, joining the two halves.
  function isZeroWidth(c) { return c === "\u200B" || c === "\u200C" || c === "\u200D" || c === "\u2060" || c === "\uFEFF"; }
  function infix(c) {
    if (c === "'" || c === "&" || c === "\u00B7" || c === "\u05F4" || c === "\u2027") return c;
    if (c === "\u2019" || c === "\u201B") return "'";
    return isZeroWidth(c) ? "" : null;
  }
  var digitInfixes = ",.;\u037E\u0589\u060D\u07F8\u2044\uFE10\uFE13\uFE14";
  function digitInfix(c) {
    if (digitInfixes.indexOf(c) >= 0) return c;
    return isZeroWidth(c) ? "" : null;
  }
  function isCJK(c) {
    var p = c.codePointAt(0);
    return (p >= 0x2E80 && p <= 0x2FDF) || (p >= 0x3000 && p <= 0x9FFF) || (p >= 0xA700 && p <= 0xA71F) ||
      (p >= 0xAC00 && p <= 0xD7AF) || (p >= 0xF900 && p <= 0xFAFF) || (p >= 0xFE30 && p <= 0xFE4F) ||
      (p >= 0xFF00 && p <= 0xFFEF) || (p >= 0x20000 && p <= 0x2A6DF) || (p >= 0x2F800 && p <= 0x2FA1F);
  }
  function isWord(c) { return c !== undefined && wordChar.test(c) && !isCJK(c); }
  function lower(c) { return c === "\u0130" ? "i" : c.toLowerCase(); }

  // The words of `text`: [{terms: [...], cjk: bool, start, end}], a CJK run as its two-character grams
  // (one character alone as itself) with its characters in `chars` (the index gives each of them a
  // position: a phrase is matched on them), every other word as one term; start/end are the indexes of
  // its first character and the one after it in Array.from(text), so that the query parser can see
  // what joins two words.
  function words(text) {
    var chars = Array.from(text);
    var result = [];
    var i = 0;
    while (i < chars.length) {
      var c = chars[i];
      if (wordChar.test(c) && isCJK(c)) {
        var run = [];
        var runStart = i;
        while (i < chars.length && wordChar.test(chars[i]) && isCJK(chars[i])) run.push(chars[i++].toLowerCase());
        var grams = [];
        if (run.length === 1) grams.push(run[0]);
        for (var g = 0; g + 1 < run.length; g++) grams.push(run[g] + run[g + 1]);
        result.push({ terms: grams, cjk: true, chars: run, start: runStart, end: i });
        continue;
      }
      if (!isWord(c)) { i++; continue; }
      var start = i;
      // Initials: U.S.A. (trailing dot or not) is one term "usa" when no word character follows.
      if (upper.test(c)) {
        var initials = "";
        var k = i;
        do { initials += lower(chars[k++]); } while (k < chars.length && chars[k] === "." && ++k < chars.length && upper.test(chars[k]));
        // One letter is no acronym (M&S is handled below).
        if (initials.length > 1 && !(k < chars.length && wordChar.test(chars[k]))) {
          result.push({ terms: [initials], cjk: false, start: start, end: k });
          i = k;
          continue;
        }
      }
      var term = "";
      while (i < chars.length) {
        c = chars[i];
        if (isWord(c)) { term += lower(c); i++; continue; }
        var next = chars[i + 1];
        var previous = chars[i - 1];
        if (!isWord(next) || !isWord(previous)) break;
        var joined = digit.test(previous) && digit.test(next) ? digitInfix(c) : infix(c);
        if (joined === null) break;
        term += joined;
        i++;
      }
      // C++, C#: a run of at most three + or # right after a word, when no word character follows it
      // (a longer run is no suffix: "c++++" is "c").
      var j = i;
      while (j < chars.length && (chars[j] === "+" || chars[j] === "#")) j++;
      if (j > i && j - i <= 3 && !(j < chars.length && wordChar.test(chars[j]))) { term += chars.slice(i, j).join(""); i = j; }
      result.push({ terms: [term], cjk: false, start: start, end: i });
    }
    return result;
  }

  // The query's groups: {kind: "all" | "phrase" | "prefix" | "from", terms: [...]}; null when empty;
  // {error} when it cannot be run. Each part is read as `mxarchive search` reads it: the CLI splits the
  // query at spaces and parentheses and hands each word and "phrase" to Xapian's QueryParser.
  function parse(query) {
    var groups = [];
    var pattern = /"([^"]*)"?|(\S+)/g;
    var match;
    while ((match = pattern.exec(query)) !== null) {
      if (match[1] !== undefined) {
        addPhrase(groups, words(match[1]));
        continue;
      }
      var token = match[2];
      // The CLI's operators, which this page does not run: refused, so that "-spam" never finds spam.
      if (token === "OR" || token === "NOT" || (token.length > 1 && token.charAt(0) === "-")) {
        return { error: "OR, NOT and -word work only in mxarchive search; this page ANDs its words." };
      }
      // The CLI groups with parentheses ("(from:@a:hs)" is a filter there, not the words from, a, hs).
      if (/[()]/.test(token)) {
        return { error: "Parentheses work only in mxarchive search; this page ANDs its words." };
      }
      if (/^(in|has|thread|before|after|date):/i.test(token)) {
        return { error: token.split(":")[0] + ": works only in mxarchive search; this page knows from:." };
      }
      if (token === "AND") continue;  // what the page does anyway
      if (/^from:/i.test(token)) {
        // As the CLI checks it: anything else would be searched as words (from:hello finding "hello").
        var user = token.slice(5);
        if (user.charAt(0) !== "@" || user.indexOf(":") < 0) return { error: "from: takes a user id such as @alice:example.org." };
        groups.push({ kind: "from", terms: [user] });
        continue;
      }
      var star = token.length > 1 && token.charAt(token.length - 1) === "*";
      var text = star ? token.slice(0, -1) : token;
      var parts = groupsOfToken(words(text), Array.from(text));
      var last = parts.pop();
      for (var p = 0; p < parts.length; p++) groups.push(parts[p]);
      if (!last) continue;
      if (!star || last.kind === "phrase") {
        // QueryParser drops the * of a word joined to the one before it (e-ma* is the phrase e ma).
        groups.push(last);
        continue;
      }
      var stem = last.terms[last.terms.length - 1];
      if (Array.from(stem).length < 2) return { error: "A prefix needs at least two characters before the *." };
      if (last.terms.length > 1) groups.push({ kind: "all", terms: last.terms.slice(0, -1) });
      groups.push({ kind: "prefix", terms: [stem] });
    }
    return groups.length ? { groups: groups } : null;
  }

  // Xapian's QueryParser (1.4, queryparser.lemony is_phrase_generator) makes a phrase of words joined only
  // by . - / : \ @ (e-mail, a.b/c); any other joint (key=value, fish+chips, foo,bar, a|b, foo—bar) ANDs
  // them, and a CJK run ends the phrase, its grams AND-ed (Mac版Office is mac AND 版 AND office).
  function groupsOfToken(parts, chars) {
    var groups = [];
    var run = [];
    function close() {
      if (run.length === 1) groups.push({ kind: "all", terms: run });
      else if (run.length > 1) groups.push({ kind: "phrase", terms: run });
      run = [];
    }
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      if (part.cjk) {
        close();
        groups.push({ kind: "all", terms: part.terms });
        continue;
      }
      var joined = run.length > 0 && parts[i - 1].end < part.start;
      for (var c = i > 0 ? parts[i - 1].end : 0; joined && c < part.start; c++) joined = ".-/:\\@".indexOf(chars[c]) >= 0;
      if (!joined) close();
      run.push(part.terms[0]);
    }
    close();
    return groups;
  }

  // "a quoted phrase": every word in order, a CJK run as its characters at their own positions, as the
  // index numbers them ("hello 世界 world" is hello 世 界 world, one position apart each).
  function addPhrase(groups, parts) {
    var terms = [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].cjk) terms = terms.concat(parts[i].chars);
      else terms.push(parts[i].terms[0]);
    }
    if (terms.length === 1) groups.push({ kind: "all", terms: terms });
    else if (terms.length > 1) groups.push({ kind: "phrase", terms: terms });
  }

  // MARK: The index

  // A fragment's key is a term's first two characters, longer where the writer split a key that was too
  // big (meta.splits: [key, [the characters that follow it]]): the term equal to a split key stays under
  // it, longer ones go under key + their next character.
  var splits = new Map();
  (meta.splits || []).forEach(function (pair) { splits.set(pair[0], new Set(pair[1])); });

  // The key of a term's fragment, or null when the split list shows that no message has the term.
  function keyOf(term) {
    var chars = Array.from(term);
    var length = Math.min(2, chars.length);
    var key = chars.slice(0, length).join("");
    while (length < chars.length && splits.has(key)) {
      if (!splits.get(key).has(chars[length])) return null;
      key += chars[length++];
    }
    return key;
  }

  // The keys of every fragment that can hold a term starting with `stem` (the split key the stem ends
  // at and all under it); empty when no term starts with it.
  function keysWithPrefix(stem) {
    var key = keyOf(stem);
    if (key === null) return [];
    var keys = [];
    (function walk(k) {
      keys.push(k);
      if (splits.has(k)) splits.get(k).forEach(function (next) { walk(k + next); });
    })(key);
    return keys;
  }
  function hex(text) {
    var bytes = new TextEncoder().encode(text);
    var result = "";
    for (var i = 0; i < bytes.length; i++) result += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return result;
  }
  function fragmentName(segment, key) { return segment + "-" + hex(key); }

  var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var digitValue = {};
  for (var a = 0; a < alphabet.length; a++) digitValue[alphabet.charAt(a)] = a;

  // A term's postings in a segment: {ranks: [...], positions: [[...], ...]}; a message's list has
  // `more` set when the writer kept only the first position_cap of its positions.
  function decode(text, segment) {
    var ranks = [];
    var positions = [];
    var index = 0;
    function number() {
      var value = 0, scale = 1, d;
      do {
        d = digitValue[text.charAt(index++)];
        value += (d & 31) * scale;
        scale *= 32;
      } while (d & 32);
      return value;
    }
    var rank = segment * meta.segment_size - 1;
    while (index < text.length) {
      rank += number();
      var count = number();
      var kept = Math.min(count, meta.position_cap);
      var list = [];
      var position = 0;
      for (var p = 0; p < kept; p++) { position += number(); list.push(position); }
      if (count > kept) list.more = true;
      ranks.push(rank);
      positions.push(list);
    }
    return { ranks: ranks, positions: positions };
  }

  function postings(segment, term) {
    var key = keyOf(term);
    var fragment = key !== null && fragments[fragmentName(segment, key)];
    var text = fragment && fragment.get(term);
    return text !== undefined ? decode(text, segment) : { ranks: [], positions: [] };
  }

  function setOf(list) { var set = new Set(); for (var i = 0; i < list.length; i++) set.add(list[i]); return set; }

  // The ranks of one group in one segment, as a Set.
  function groupRanks(segment, group) {
    var i, t;
    if (group.kind === "prefix") {
      var union = new Set();
      keysWithPrefix(group.terms[0]).forEach(function (key) {
        var fragment = fragments[fragmentName(segment, key)] || new Map();
        fragment.forEach(function (text, term) {
          if (term.charAt(0) === "@" || term.lastIndexOf(group.terms[0], 0) !== 0) return;
          var found = decode(text, segment).ranks;
          for (var f = 0; f < found.length; f++) union.add(found[f]);
        });
      });
      return union;
    }
    if (group.kind === "from") return setOf(postings(segment, group.terms[0]).ranks);
    var lists = group.terms.map(function (term) { return postings(segment, term); });
    var result = setOf(lists[0].ranks);
    for (t = 1; t < lists.length; t++) {
      var other = setOf(lists[t].ranks);
      result.forEach(function (rank) { if (!other.has(rank)) result.delete(rank); });
    }
    if (group.kind !== "phrase") return result;
    // Phrase: the words one position apart, in order.
    var maps = lists.map(function (list) {
      var map = new Map();
      for (var k = 0; k < list.ranks.length; k++) if (result.has(list.ranks[k])) map.set(list.ranks[k], list.positions[k]);
      return map;
    });
    var phrase = new Set();
    result.forEach(function (rank) {
      var starts = maps[0].get(rank);
      var sets = maps.map(function (map) { return setOf(map.get(rank)); });
      for (var s = 0; s < starts.length; s++) {
        var ok = true;
        for (var w = 1; w < sets.length && ok; w++) ok = sets[w].has(starts[s] + w);
        if (ok) { phrase.add(rank); return; }
      }
      // A word with positions past the cap may continue the phrase there: kept as a candidate, so a
      // hostile message costs a false hit at worst, never a lost one.
      if (maps.some(function (map) { return map.get(rank).more; })) phrase.add(rank);
    });
    return phrase;
  }

  // Every group must match, from: included: two senders find nothing, as in the CLI (a message has one).
  function segmentMatches(segment, groups) {
    var result = null;
    function keep(set) {
      if (result === null) { result = set; return; }
      result.forEach(function (rank) { if (!set.has(rank)) result.delete(rank); });
    }
    for (var i = 0; i < groups.length; i++) keep(groupRanks(segment, groups[i]));
    return Array.from(result || []).sort(function (x, y) { return x - y; });
  }

  // MARK: Results

  var state = null;
  var more = document.createElement("p");
  var moreLink = document.createElement("a");
  moreLink.href = "#";
  moreLink.textContent = "More results";
  more.appendChild(moreLink);
  moreLink.addEventListener("click", function (event) { event.preventDefault(); if (state) next(state); });

  function clear() {
    while (out.firstChild) out.removeChild(out.firstChild);
    if (more.parentNode) more.parentNode.removeChild(more);
  }

  function run(query) {
    clear();
    var parsed = parse(query);
    state = null;
    if (!parsed) { if (status) status.textContent = ""; return; }
    if (parsed.error) { if (status) status.textContent = parsed.error; return; }
    state = { groups: parsed.groups, segment: 0, matches: [], shown: 0, busy: false, lead: null };
    // A word no message has (the split list can tell) matches nothing: nothing to fetch.
    if (parsed.groups.some(function (group) { return fragmentNames(group, 0).missing; })) state.segment = meta.segments;
    if (status) status.textContent = "Searching…";
    next(state);
  }

  // The fragment files of a group's terms in a segment; `missing` when one of its words is in no message.
  function fragmentNames(group, segment) {
    var keys = group.kind === "prefix" ? keysWithPrefix(group.terms[0]) : group.terms.map(keyOf);
    var missing = keys.length === 0 || keys.indexOf(null) >= 0;
    return { names: keys.filter(function (key) { return key !== null; }).map(function (key) { return fragmentName(segment, key); }), missing: missing };
  }

  function loadFragments(groups, segments, done) {
    var names = {};
    segments.forEach(function (segment) {
      groups.forEach(function (group) { fragmentNames(group, segment).names.forEach(function (name) { names[name] = true; }); });
    });
    var files = Object.keys(names).map(function (name) {
      return { path: "search/f/" + name + ".js", isLoaded: function () { return fragments[name] !== undefined; }, name: name };
    });
    loadAll(files, function () {
      files.forEach(function (file) { if (fragments[file.name] === undefined) fragments[file.name] = new Map(); });
      done();
    });
  }

  // Searches older segments until a page of results is found (or none is left), then shows it.
  function next(current) {
    if (current.busy) return;
    current.busy = true;
    var step = function () {
      if (state !== current) return;
      if (current.matches.length >= current.shown + pageSize || current.segment >= meta.segments) { show(current); return; }
      // The newest segment first: a frequent word fills a page there, and older segments are never fetched.
      if (current.segment === 0) {
        loadFragments(current.groups, [0], function () {
          if (state !== current) return;
          current.matches = current.matches.concat(segmentMatches(0, current.groups));
          current.segment = 1;
          step();
        });
        return;
      }
      // Then every remaining segment at once (one round trip rather than one per segment), the group with
      // the fewest messages in the newest segment first, and the other groups only in the segments where
      // it has messages: "messenger message" never fetches the postings of "message" from segments
      // where "messenger" is not. Results are merged segment by segment, so still newest first.
      if (current.lead === null) {
        var sizes = current.groups.map(function (group) { return groupRanks(0, group).size; });
        current.lead = sizes.indexOf(Math.min.apply(null, sizes));
      }
      var lead = current.groups[current.lead];
      var others = current.groups.filter(function (group, index) { return index !== current.lead; });
      var rest = [];
      for (var segment = current.segment; segment < meta.segments; segment++) rest.push(segment);
      loadFragments([lead], rest, function () {
        if (state !== current) return;
        var wanted = rest.filter(function (segment) { return groupRanks(segment, lead).size > 0; });
        loadFragments(others, wanted, function () {
          if (state !== current) return;
          wanted.forEach(function (segment) { current.matches = current.matches.concat(segmentMatches(segment, current.groups)); });
          current.segment = meta.segments;
          step();
        });
      });
    };
    step();
  }

  function show(current) {
    var ranks = current.matches.slice(current.shown, current.shown + pageSize);
    var numbers = {};
    ranks.forEach(function (rank) { numbers[Math.floor(rank / meta.chunk_size)] = true; });
    var files = Object.keys(numbers).map(function (number) {
      return { path: "search/s/" + number + ".js", isLoaded: function () { return chunks[number] !== undefined; } };
    });
    loadAll(files, function () {
      if (state !== current) return;
      if (more.parentNode) more.parentNode.removeChild(more);
      ranks.forEach(function (rank) {
        var list = chunks[Math.floor(rank / meta.chunk_size)];
        var summary = list && list[rank % meta.chunk_size];
        if (!summary) return;  // [href, room, time, sender name, sender id, text]
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = summary[0];
        link.textContent = (meta.rooms[summary[1]] || "") + " · " + summary[2] + " · " + summary[3];
        link.title = summary[4];
        li.appendChild(link);
        var text = document.createElement("div");
        text.className = "snippet";
        text.textContent = summary[5];
        li.appendChild(text);
        out.appendChild(li);
      });
      current.shown += ranks.length;
      current.busy = false;
      var done = current.segment >= meta.segments;
      var total = current.matches.length;
      if (status) {
        if (done && total === 0) status.textContent = "No messages match.";
        else if (done && total === current.shown) status.textContent = total === 1 ? "1 message matches." : total + " messages match.";
        else if (done) status.textContent = total + " messages match; the newest " + current.shown + " are shown.";
        else status.textContent = "At least " + total + " messages match; the newest " + current.shown + " are shown.";
      }
      if (!done || current.shown < total) out.parentNode.insertBefore(more, out.nextSibling);
    });
  }

  box.addEventListener("input", function () { run(box.value); });
  var query = /[?&]q=([^&#]*)/.exec(window.location.search);
  if (query) {
    var text = query[1].replace(/\+/g, " ");
    try { text = decodeURIComponent(text); } catch (error) { /* a malformed %-escape: the query as written */ }
    box.value = text;
    run(box.value);
  }
})();
