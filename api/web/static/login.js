// Sign-in page: the OAuth2 password flow against /auth/token, then the role's own page.
"use strict";

(() => {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = document.getElementById("username").value.trim();
    const password = document.getElementById("password").value;
    if (!username || !password) {
      Linli.status(Linli.t("login_failed"), "error");
      return;
    }
    Linli.status(Linli.t("loading"));
    try {
      const reply = await Linli.api("/auth/token", {
        form: { username, password, grant_type: "password" }, anonymous: true,
      });
      Linli.saveSession(reply);
      const next = new URLSearchParams(location.search).get("next") || "";
      const safe = next.startsWith("/web/") && !next.startsWith("/web/login");
      window.location.assign(safe ? next : Linli.HOME[reply.principal.role] || "/web/map");
    } catch (error) {
      Linli.status(error instanceof Linli.ApiError && error.status === 401 ? Linli.t("login_failed") : Linli.errorText(error), "error");
    }
  });
})();
