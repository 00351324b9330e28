// AI-Infra-Matrix console: a dependency-free single-page app with a tiny
// history-API router. Service health comes from the backend through the
// reverse proxy (/api/healthz).
(function () {
  "use strict";

  var services = [
    { name: "backend", url: "/api/healthz" },
    { name: "frontend", url: "/healthz" }
  ];

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function overview() {
    return el("section", {}, [
      el("h2", {}, ["Overview"]),
      el("p", {}, ["One console for the platform: SLURM, JupyterHub, Gitea, monitoring and packages."])
    ]);
  }

  function serviceList() {
    var body = el("tbody");
    services.forEach(function (s) {
      var status = el("td", {}, ["checking..."]);
      body.appendChild(el("tr", {}, [el("td", {}, [s.name]), status]));
      fetch(s.url).then(function (r) {
        status.textContent = r.ok ? "up" : "down (" + r.status + ")";
        status.className = r.ok ? "ok" : "down";
      }).catch(function () {
        status.textContent = "unreachable";
        status.className = "down";
      });
    });
    return el("section", {}, [
      el("h2", {}, ["Services"]),
      el("table", {}, [el("thead", {}, [el("tr", {}, [el("th", {}, ["Service"]), el("th", {}, ["Status"])])]), body])
    ]);
  }

  function about() {
    return el("section", {}, [
      el("h2", {}, ["About"]),
      el("p", {}, ["Built by matrix for linux/amd64 and linux/arm64."])
    ]);
  }

  var routes = { "/": overview, "/services": serviceList, "/about": about };

  function render() {
    var path = window.location.pathname;
    var view = document.getElementById("view");
    view.textContent = "";
    view.appendChild((routes[path] || overview)());
    document.querySelectorAll("nav a").forEach(function (a) {
      a.className = a.getAttribute("data-route") === path ? "active" : "";
    });
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-route]");
    if (!a) { return; }
    ev.preventDefault();
    window.history.pushState({}, "", a.getAttribute("data-route"));
    render();
  });
  window.addEventListener("popstate", render);
  render();
})();
