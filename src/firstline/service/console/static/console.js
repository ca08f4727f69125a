// firstline console: while an investigation runs, fetch its page's changing part every
// two seconds and swap it in; stop when the run waits for a person or is over.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function poll(body) {
    var url = body.getAttribute("data-live");
    if (!url) { return; }
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("status " + answer.status); }
          return answer.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html").getElementById("incident-body");
          if (!next) { return; }
          var fresh = document.importNode(next, true);
          body.replaceWith(fresh);
          poll(fresh);
        })
        .catch(function () { poll(body); });  // a blip: try again later
    }, INTERVAL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.getElementById("incident-body");
    if (body) { poll(body); }
  });
})();
