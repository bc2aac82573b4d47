// mxarchive HTML export: a room's permalink page, rooms/<id>/event.html#<event id>. It loads the one
// lookup shard that can hold the id (events/<n>.js, n = FNV-1a of the id's UTF-8 bytes modulo the shard
// count, as the exporter computes it) and goes to the page and anchor of the message, or says the id is
// not in this export. Scripts, not fetch(): a <script src> works from file:// under script-src 'self'.
// Text only (textContent); nothing leaves the export.
(function () {
  "use strict";
  var status = document.getElementById("mxa-permalink");
  if (!status) return;
  var shards = parseInt(status.getAttribute("data-shards") || "0", 10);

  // The status line: plain text, and the id (anyone's text, up to 255 bytes in Matrix, any length in
  // an address) cut to 200 characters inside a <bdi>, so that right-to-left or control characters in it
  // cannot reorder the sentence around it.
  function say(text, id, after) {
    status.textContent = text;
    if (id === undefined) return;
    var chars = Array.from(id);
    var bdi = document.createElement("bdi");
    bdi.textContent = chars.length > 200 ? chars.slice(0, 200).join("") + "…" : id;
    status.appendChild(bdi);
    status.appendChild(document.createTextNode(after || ""));
  }

  function shardOf(id) {
    var bytes = new TextEncoder().encode(id);
    var hash = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      hash ^= bytes[i];
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % shards;
  }

  // Only page names the exporter writes (month, thread and -pN pages): a lookup file that was tampered
  // with cannot send the reader to a javascript: or another site's address.
  var pageName = /^[A-Za-z0-9._\/-]+$/;

  // The lookups under way: the fragment as it is first (an id may hold a literal "%"), then its
  // %-decoded form, each {id, shard}.
  var wanted = [];

  function next() {
    if (wanted.length === 0) return;
    var script = document.createElement("script");
    script.src = "events/" + wanted[0].shard + ".js";
    script.onerror = function () { say("The lookup file for this message is missing from the export."); };
    document.body.appendChild(script);
  }

  window.mxaEventShard = function (shard, entries) {
    var current = wanted[0];
    if (!current || shard !== current.shard) return;
    for (var i = 0; i < entries.length; i++) {
      if (entries[i][0] === current.id) {
        var page = String(entries[i][1]);
        if (!pageName.test(page)) break;
        // The page's own URL form of the fragment, so that the anchor matches as the page links it.
        location.replace(page + location.hash);
        return;
      }
    }
    wanted.shift();
    if (wanted.length > 0) { next(); return; }
    say("No message with the id ", current.original, " is in this export.");
  };

  function find() {
    var raw = location.hash.slice(1);
    if (!raw) { say("Add a message id to this page's address: event.html#$id"); return; }
    if (!(shards > 0)) { say("This export has no messages in this room."); return; }
    var decoded = raw;
    try { decoded = decodeURIComponent(raw); } catch (e) { /* not %-encoded: only the raw form */ }
    wanted = [{ id: raw, shard: shardOf(raw), original: decoded }];
    if (decoded !== raw) wanted.push({ id: decoded, shard: shardOf(decoded), original: decoded });
    say("Finding message ", decoded, "…");
    next();
  }

  window.addEventListener("hashchange", find);
  find();
})();
