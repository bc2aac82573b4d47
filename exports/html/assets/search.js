// mxarchive HTML export: client-side search over the messages of the exported rooms. The data comes from
// rooms/<id>/search.js (one file per room, loaded by index.html); results are built with textContent
// only, so message text can never become markup. Nothing leaves the page.
(function () {
  "use strict";
  var box = document.getElementById("mxa-search");
  var out = document.getElementById("mxa-results");
  var status = document.getElementById("mxa-search-status");
  var rooms = window.mxaSearchRooms || [];
  if (!box || !out) return;
  var limit = 200;

  function clear() { while (out.firstChild) out.removeChild(out.firstChild); }

  function run(query) {
    clear();
    var terms = query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
    if (terms.length === 0) { if (status) status.textContent = ""; return; }
    var found = 0;
    for (var r = 0; r < rooms.length; r++) {
      var docs = rooms[r].docs;
      for (var i = docs.length - 1; i >= 0; i--) {
        var d = docs[i];  // [href from the room folder, time, sender, text]
        if (d.length < 4) continue;
        var hay = (d[2] + " " + d[3]).toLowerCase();
        var all = true;
        for (var t = 0; t < terms.length; t++) { if (hay.indexOf(terms[t]) < 0) { all = false; break; } }
        if (!all) continue;
        found++;
        if (found > limit) continue;
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = rooms[r].base + d[0];
        a.textContent = rooms[r].name + " · " + d[1] + " · " + d[2];
        li.appendChild(a);
        var p = document.createElement("div");
        p.className = "snippet";
        p.textContent = d[3];
        li.appendChild(p);
        out.appendChild(li);
      }
    }
    if (status) {
      status.textContent = found === 0 ? "No messages match." :
        (found > limit ? found + " messages match; the first " + limit + " are shown." :
         (found === 1 ? "1 message matches." : found + " messages match."));
    }
  }

  box.addEventListener("input", function () { run(box.value); });
  var match = /[?&]q=([^&#]*)/.exec(window.location.search);
  if (match) {
    box.value = decodeURIComponent(match[1].replace(/\+/g, " "));
    run(box.value);
  }
})();
