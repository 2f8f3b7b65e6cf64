// Progressive enhancement: "Copy" buttons for code blocks, and file inputs that read a file
// into a textarea (the register form). Pages work without it: the textarea takes a paste.
(function () {
  "use strict";
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }
  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = target.getAttribute("data-text") !== null ? target.getAttribute("data-text") : target.innerText;
    var status = document.getElementById(button.getAttribute("data-status"));
    function report(ok) { if (status) { status.textContent = ok ? "Copied." : "Copy failed: select the code and copy it."; } }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { report(true); }, function () { report(fallback(text)); });
    } else {
      report(fallback(text));
    }
  }
  document.querySelectorAll("input[type=file][data-fills]").forEach(function (input) {
    var area = document.getElementById(input.getAttribute("data-fills"));
    if (!area) { return; }
    input.parentElement.hidden = false;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      // The format follows the file's extension, when it names one.
      var format = document.getElementById(input.getAttribute("data-format") || "");
      var known = { avsc: "AVRO", json: "JSON", proto: "PROTOBUF" };
      var extension = file.name.split(".").pop().toLowerCase();
      if (format && known[extension]) { format.value = known[extension]; }
      var reader = new FileReader();
      reader.onload = function () { area.value = reader.result; };
      reader.readAsText(file);
    });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button); });
  });
})();
