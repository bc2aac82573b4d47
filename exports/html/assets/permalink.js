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

  function say(text) { status.textContent = text; }

  function shardOf(id) {
    var bytes = new TextEncoder().encode(id);
    var hash = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      hash ^= bytes[i];
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % shards;
  }

  var wanted = null;  // {id, shard} of the lookup under way

  window.mxaEventShard = function (shard, entries) {
    if (!wanted || shard !== wanted.shard) return;
    for (var i = 0; i < entries.length; i++) {
      if (entries[i][0] === wanted.id) {
        // The page's own URL form of the fragment, so that the anchor matches as the page links it.
        location.replace(entries[i][1] + location.hash);
        return;
      }
    }
    say("No message with the id " + wanted.id + " is in this export.");
    wanted = null;
  };

  function find() {
    var id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { /* not %-encoded: use it as it is */ }
    if (!id) { say("Add a message id to this page's address: event.html#$id"); return; }
    if (!(shards > 0)) { say("This export has no messages in this room."); return; }
    wanted = { id: id, shard: shardOf(id) };
    say("Finding message " + id + "…");
    var script = document.createElement("script");
    script.src = "events/" + wanted.shard + ".js";
    script.onerror = function () { say("The lookup file for this message is missing from the export."); };
    document.body.appendChild(script);
  }

  window.addEventListener("hashchange", find);
  find();
})();
