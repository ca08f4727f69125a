// firstline console: until an incident is over, fetch its page's changing part every two
// seconds and swap it in. Never while the reader is writing a comment or has focus in the
// decision form: their words and place are kept, and the next round tries again.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function busy(body) {
    var form = body.querySelector("form");
    if (form && form.contains(document.activeElement)) { return true; }
    var comment = body.querySelector("textarea");
    return Boolean(comment && comment.value);
  }

  function poll(body) {
    var url = body.getAttribute("data-live");
    if (!url) { return; }
    window.setTimeout(function () {
      if (busy(body)) { poll(body); return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("status " + answer.status); }
          return answer.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html").getElementById("incident-body");
          if (!next || busy(body)) { poll(body); return; }
          var fresh = document.importNode(next, true);
          body.replaceWith(fresh);
          poll(fresh);
        })
        .catch(function () { poll(body); });  // a blip: try again next round
    }, INTERVAL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.getElementById("incident-body");
    if (body) { poll(body); }
  });
})();
