// 折り返し一覧の自動更新: 一覧部分と未対応バッジだけを差し替える（入力中の操作やフォーカスは壊さない）。
// 自動更新のリクエストは X-Staff-Auto-Refresh を付けるので、操作とは数えられず無操作タイムアウトは進む。
(function () {
  "use strict";
  var box = document.getElementById("auto-refresh");
  if (!box) return;
  var seconds = parseInt(box.getAttribute("data-seconds"), 10) || 30;
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("queue");
    var queue = document.getElementById("queue");
    if (!fresh || !queue) { window.location.reload(); return; }
    if (queue.contains(document.activeElement)) return; // the clerk is using the list: wait
    queue.innerHTML = fresh.innerHTML;
    var badge = document.getElementById("badge");
    var freshBadge = doc.getElementById("badge");
    if (badge && freshBadge) {
      badge.innerHTML = freshBadge.innerHTML;
      badge.hidden = freshBadge.hidden;
    }
  }
  // A failed refresh (storage down: 503, network) keeps the list on screen and says so; only a
  // sign-in redirect or a refused session reloads the page (to the login form).
  var failed = document.getElementById("refresh-failed");
  function show(problem) { if (failed) failed.hidden = !problem; }
  function tick() {
    if (!box.checked) return;
    fetch(window.location.href, { headers: { "X-Staff-Auto-Refresh": "1" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.redirected || r.status === 401 || r.status === 403) { window.location.reload(); return null; }
        if (!r.ok) { show(true); return null; }
        return r.text();
      })
      .then(function (html) { if (html) { swap(html); show(false); } })
      .catch(function () { show(true); });
  }
  window.setInterval(tick, seconds * 1000);
})();
