/* Torale's pages work without this script (every action is a form post). With it, the slow
   actions (suggest, preview, run now, channel tests) run in the background through the JSON
   API and show their progress, so the page never freezes; failures are said in words.
   Untrusted text (model answers, sources) is only ever set with textContent. */
(function () {
  "use strict";

  var TIMEOUT_MS = 150000; // preview and suggest may take a minute or two
  var POLL_MS = 3000;
  var POLL_LIMIT_MS = 10 * 60 * 1000;
  var FIELD_LABELS = {
    prompt: "Description",
    name: "Name",
    search_query: "Search query",
    condition_description: "Condition",
    schedule: "Schedule",
    notify_behavior: "Notify",
    timezone: "Time zone",
  };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setProgress(el, text, kind) {
    if (!el) return;
    el.classList.remove("progress--busy", "progress--error", "progress--ok");
    if (kind) el.classList.add("progress--" + kind);
    el.textContent = text || "";
  }

  function setBusy(button, busy) {
    if (!button) return;
    button.disabled = busy;
    if (busy) button.setAttribute("aria-busy", "true");
    else button.removeAttribute("aria-busy");
  }

  /* What went wrong, in words: the API's {"detail": ...}, a validation list, or the network. */
  function explain(result) {
    if (result.networkError) {
      return result.timedOut
        ? "No answer in time. Try again in a moment."
        : "Could not reach Torale. Check your connection and try again.";
    }
    var data = result.data || {};
    var detail = data.detail;
    if (Array.isArray(detail)) {
      return detail
        .map(function (item) {
          var loc = item.loc || [];
          var field = loc[loc.length - 1];
          var label = FIELD_LABELS[field] || (typeof field === "string" ? field : "");
          return (label ? label + ": " : "") + item.msg;
        })
        .join(" · ");
    }
    if (result.status === 401 || (result.status === 403 && /CSRF/.test(detail || ""))) {
      return "Your session has ended. Reload the page and log in again.";
    }
    if (result.status === 429) {
      var wait = data.retry_after ? " in " + data.retry_after + " seconds" : " in a moment";
      // The API key's rate limit says only that; other limits say why (e.g. previews running).
      var why = typeof detail === "string" && detail !== "Rate limit exceeded"
        ? detail + ". " : "Too many requests just now. ";
      return why + "Try again" + wait + ".";
    }
    if (typeof detail === "string" && detail) return detail;
    return "Something went wrong (HTTP " + result.status + "). Try again in a moment.";
  }

  function request(url, options) {
    options = options || {};
    var controller = "AbortController" in window ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    var body = options.body;
    if (body && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(url, {
      method: options.method || "GET",
      headers: headers,
      body: body,
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () { return {}; })
          .then(function (data) {
            return { ok: response.ok, status: response.status, data: data };
          });
      })
      .catch(function (error) {
        return { ok: false, networkError: true, timedOut: error && error.name === "AbortError" };
      })
      .finally(function () {
        if (timer) clearTimeout(timer);
      });
  }

  /* --- Sources as links: http(s) only ------------------------------------------------------- */

  function httpUrl(value) {
    if (typeof value !== "string") return "";
    try {
      var url = new URL(value.trim());
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
    } catch (e) {
      return "";
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderSources(container, sources) {
    if (!sources || !sources.length) return;
    container.appendChild(el("span", "run__label", "Sources"));
    var list = el("ul", "sources");
    sources.forEach(function (source) {
      var item = el("li");
      var href = httpUrl(source && source.uri);
      if (href) {
        var link = el("a", "", (source.title || new URL(href).hostname || href));
        link.href = href;
        link.rel = "noopener noreferrer nofollow";
        item.appendChild(link);
      } else {
        item.appendChild(document.createTextNode((source && source.title) || "Untitled source"));
        item.appendChild(el("span", "muted small", " (not a web link: " + ((source && source.uri) || "") + ")"));
      }
      list.appendChild(item);
    });
    container.appendChild(list);
  }

  function renderPreview(target, preview) {
    target.textContent = "";
    var box = el("div", "preview");
    box.id = "preview-box";
    box.tabIndex = -1;
    var heading = el("h3", "", "Preview: ");
    heading.appendChild(
      preview.condition_met
        ? el("span", "badge badge--met", "Condition met")
        : el("span", "badge badge--not-met", "Not met")
    );
    box.appendChild(heading);
    box.appendChild(el("span", "run__label", "Answer"));
    box.appendChild(el("p", "run__text", preview.answer || ""));
    box.appendChild(el("span", "run__label", "Why"));
    box.appendChild(el("p", "run__text", preview.reasoning || ""));
    renderSources(box, preview.grounding_sources);
    box.appendChild(el("p", "small muted", "A preview saves nothing and notifies nobody."));
    target.appendChild(box);
  }

  /* --- Create / edit: suggest and preview ----------------------------------------------------- */

  function fieldValue(form, name) {
    var field = form.elements[name];
    if (!field) return "";
    if (field instanceof RadioNodeList) return field.value;
    return field.value;
  }

  function setField(form, name, value) {
    var field = form.elements[name];
    if (!field || value === undefined || value === null) return;
    if (field instanceof RadioNodeList) {
      Array.prototype.forEach.call(field, function (radio) {
        radio.checked = radio.value === value;
      });
    } else {
      field.value = value;
    }
  }

  function setupSuggest() {
    var form = document.getElementById("suggest-form");
    var taskForm = document.getElementById("task-form");
    if (!form || !taskForm) return;
    var progress = document.getElementById("suggest-progress");
    var button = document.getElementById("suggest-button");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var prompt = (form.elements.prompt.value || "").trim();
      if (!prompt) {
        setProgress(progress, "Describe what Torale should watch for you first.", "error");
        form.elements.prompt.focus();
        return;
      }
      var body = { prompt: prompt };
      var current = {};
      ["name", "search_query", "condition_description", "schedule", "notify_behavior"].forEach(
        function (name) {
          var value = (fieldValue(taskForm, name) || "").trim();
          if (value) current[name] = value;
        }
      );
      // Refine what is in the form (an edit, or a suggestion being reworked).
      if (current.search_query) body.current_task = current;
      setBusy(button, true);
      setProgress(progress, "Thinking about your task… this can take a little while.", "busy");
      request(form.dataset.suggestUrl, { method: "POST", body: body }).then(function (result) {
        setBusy(button, false);
        if (!result.ok) {
          setProgress(progress, "Suggest failed: " + explain(result), "error");
          return;
        }
        ["name", "search_query", "condition_description", "schedule", "notify_behavior"].forEach(
          function (name) {
            setField(taskForm, name, result.data[name]);
          }
        );
        setProgress(progress, "Suggestion filled in below. Check it, preview it, then save.", "ok");
      });
    });
  }

  function setupPreview() {
    var form = document.getElementById("task-form");
    if (!form) return;
    var progress = document.getElementById("preview-progress");
    var target = document.getElementById("preview-result");
    var button = document.getElementById("preview-button");
    var lastClicked = null;
    form.addEventListener("click", function (event) {
      var clicked = event.target.closest("button[type=submit]");
      if (clicked) lastClicked = clicked;
    });
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter || lastClicked;
      lastClicked = null;
      if (!submitter || submitter.value !== "preview") return; // saving: a normal post
      event.preventDefault();
      setBusy(button, true);
      target.textContent = "";
      setProgress(progress, "Searching the web and checking your condition… this can take a minute.", "busy");
      request(form.dataset.previewUrl, {
        method: "POST",
        body: {
          search_query: fieldValue(form, "search_query").trim(),
          condition_description: fieldValue(form, "condition_description").trim(),
        },
      }).then(function (result) {
        setBusy(button, false);
        if (!result.ok) {
          setProgress(progress, "Preview failed: " + explain(result), "error");
          return;
        }
        setProgress(progress, "Preview ready.", "ok");
        renderPreview(target, result.data);
      });
    });
  }

  /* --- Task page: run now, and following a run until it ends ----------------------------------- */

  var RUN_STATES = {
    pending: "Queued: waiting for a worker…",
    running: "Running: searching the web and checking the condition…",
    retrying: "A temporary error interrupted the run; Torale retries shortly…",
  };

  function setupRun() {
    var form = document.getElementById("run-form");
    var panel = document.getElementById("run-status");
    if (!form || !panel) return;
    var progress = document.getElementById("run-progress");
    var forceForm = document.getElementById("force-form");
    var button = document.getElementById("run-button");
    var polling = null;

    function finished(text, kind) {
      setProgress(progress, text, kind);
      var reload = el("button", "button button--small", "Show it in the history");
      reload.type = "button";
      reload.addEventListener("click", function () {
        window.location.hash = "history";
        window.location.reload();
      });
      progress.appendChild(document.createTextNode(" "));
      progress.appendChild(reload);
      forceForm.hidden = true;
      setBusy(button, false);
    }

    function follow(executionId) {
      var started = Date.now();
      var url = form.dataset.executionsUrl.replace(/\/$/, "") + "/" + executionId;
      panel.hidden = false;
      if (polling) clearTimeout(polling);
      function tick() {
        request(url).then(function (result) {
          if (!result.ok) {
            setProgress(progress, "Could not follow the run: " + explain(result), "error");
            setBusy(button, false);
            return;
          }
          var run = result.data;
          if (RUN_STATES[run.status]) {
            setProgress(progress, RUN_STATES[run.status], "busy");
            if (Date.now() - started > POLL_LIMIT_MS) {
              setProgress(progress, "Still running. Reload the page later to see the result.", "");
              setBusy(button, false);
              return;
            }
            polling = setTimeout(tick, POLL_MS);
          } else if (run.status === "success") {
            finished(run.condition_met ? "Done: the condition is met." : "Done: the condition is not met.", "ok");
          } else if (run.status === "failed") {
            finished("The run failed: " + (run.error_message || "no reason was given."), "error");
          } else {
            finished("The run was cancelled.", "");
          }
        });
      }
      tick();
    }

    function run(force) {
      setBusy(button, true);
      panel.hidden = false;
      forceForm.hidden = true;
      setProgress(progress, "Starting a run…", "busy");
      var url = form.dataset.executeUrl + (force ? "?force=true" : "");
      request(url, { method: "POST" }).then(function (result) {
        if (result.status === 409) {
          setProgress(
            progress,
            "A run of this task is already queued or running. Wait for it to finish, or use “Run anyway” to cancel it and start a new one.",
            "error"
          );
          forceForm.hidden = false;
          setBusy(button, false);
          return;
        }
        if (!result.ok) {
          setProgress(progress, "Could not start the run: " + explain(result), "error");
          setBusy(button, false);
          return;
        }
        follow(result.data.execution_id);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(false);
    });
    forceForm.addEventListener("submit", function (event) {
      event.preventDefault();
      run(true);
    });
    if (panel.dataset.executionId) {
      setBusy(button, true);
      follow(panel.dataset.executionId);
      forceForm.hidden = false;
    }
  }

  /* --- Settings: channel tests and copy buttons ---------------------------------------------- */

  function setupChannelTests() {
    document.querySelectorAll("form[data-channel-test]").forEach(function (form) {
      var output = form.closest(".row").parentNode.querySelector("[data-test-result]");
      var button = form.querySelector("button");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        setBusy(button, true);
        setProgress(output, "Sending a test notification…", "busy");
        request(form.action, { method: "POST", body: new FormData(form) }).then(function (result) {
          setBusy(button, false);
          if (result.ok && result.data && result.data.message) {
            setProgress(output, result.data.message, result.data.success ? "ok" : "error");
          } else {
            setProgress(output, "The test could not be sent: " + explain(result), "error");
          }
        });
      });
    });
  }

  function setupCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.dataset.copy);
      var status = button.parentNode.querySelector("[data-copy-status]");
      button.addEventListener("click", function () {
        function done(ok) {
          if (status) status.textContent = ok ? "Copied." : "Select the text and copy it yourself.";
        }
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
        } else {
          var ok = false;
          try {
            ok = document.execCommand("copy");
          } catch (e) {
            ok = false;
          }
          done(ok);
        }
      });
    });
    var secret = document.getElementById("new-secret");
    if (secret) secret.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSuggest();
    setupPreview();
    setupRun();
    setupChannelTests();
    setupCopy();
  });
})();
