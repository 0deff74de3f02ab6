/* verifier pages: small enhancements only. Every form works without this file. */
(function () {
  "use strict";

  // Member rows of the check form: add a row from the template, remove a row.
  function nextIndex(list) {
    var max = -1;
    list.querySelectorAll("[data-row]").forEach(function (row) {
      max = Math.max(max, parseInt(row.getAttribute("data-row"), 10));
    });
    return max + 1;
  }
  function renumber(list) {
    var n = 1, word = list.getAttribute("data-row-label") || "成员";
    list.querySelectorAll("[data-row] .n").forEach(function (el) { el.textContent = word + " " + n++; });
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var list = document.getElementById(add.getAttribute("data-add-row"));
      var template = document.getElementById(add.getAttribute("data-template"));
      var index = nextIndex(list);
      if (index >= 30) return;
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__i__/g, String(index));
      var row = holder.firstElementChild;
      list.appendChild(row);
      renumber(list);
      var first = row.querySelector("input");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var target = remove.closest("[data-row]");
      var parent = target.parentNode;
      target.remove();
      renumber(parent);
      saveDraft(parent.closest("form"));
    }
  });

  // File pickers in Chinese: a native file input says "Choose Files / No file chosen" in the browser's own language.
  // With this file it is hidden from sight (still focusable, still labelled) behind a label drawn as a button and a
  // status line; without it (no "js-files" on <html>) the native control shows as before.
  document.documentElement.className += " js-files";
  function pickedText(input) {
    var files = input.files || [];
    if (!files.length) return "未选择文件";
    return files.length === 1 ? "已选择：" + files[0].name : "已选择 " + files.length + " 个文件";
  }
  function dressFileInputs() {
    document.querySelectorAll("input[type=file][id]:not([data-dressed])").forEach(function (input) {
      input.setAttribute("data-dressed", "");
      if (input.parentNode.classList) input.parentNode.classList.add("file-field");
      var pick = document.createElement("label");
      pick.className = "button secondary file-pick";
      pick.htmlFor = input.id;
      pick.textContent = /^image\//.test(input.accept) ? "选择照片" : "选择文件";
      input.parentNode.insertBefore(pick, input.nextSibling);
      if (document.getElementById(input.getAttribute("data-status"))) return;  // the photos' own status line
      var status = document.createElement("span");
      status.className = "file-status";
      status.id = input.id + "-status";
      status.setAttribute("aria-live", "polite");
      status.textContent = pickedText(input);
      pick.parentNode.insertBefore(status, pick.nextSibling);
      input.setAttribute("data-status", status.id);
    });
  }
  document.addEventListener("change", function (event) {
    var input = event.target, status;
    if (input.type !== "file" || !input.hasAttribute("data-dressed")) return;
    status = document.getElementById(input.getAttribute("data-status"));
    if (status) status.textContent = pickedText(input);
  });

  // Photos: shrink big camera pictures before upload (a village connection is slow); keep the original on any error.
  // A canvas's JPEG carries no camera data, so the original's Exif segment (when the photo was taken) is copied into
  // it, its Orientation set to 1: the canvas has already drawn the picture upright.
  function exifSegment(bytes) {
    if (bytes[0] !== 0xFF || bytes[1] !== 0xD8) return null;
    var at = 2;
    while (at + 4 <= bytes.length && bytes[at] === 0xFF) {
      var marker = bytes[at + 1], size = (bytes[at + 2] << 8) | bytes[at + 3];
      if (marker === 0xDA || marker === 0xD9 || size < 2) return null;  // the picture itself begins: no Exif
      if (marker === 0xE1 && size >= 16 && at + 2 + size <= bytes.length &&
          String.fromCharCode.apply(null, bytes.subarray(at + 4, at + 10)) === "Exif\0\0") {
        var segment = bytes.slice(at, at + 2 + size);
        return upright(new DataView(segment.buffer)) ? segment : null;
      }
      at += 2 + size;
    }
    return null;
  }
  function upright(view) {  // the segment's TIFF header starts 10 bytes in; false when its first IFD does not parse
    var tiff = 10, order = view.getUint16(tiff), little = order === 0x4949;
    if ((!little && order !== 0x4D4D) || view.getUint16(tiff + 2, little) !== 42) return false;
    var ifd = tiff + view.getUint32(tiff + 4, little);
    if (ifd + 2 > view.byteLength) return false;
    var count = view.getUint16(ifd, little);
    if (ifd + 2 + count * 12 > view.byteLength) return false;
    for (var i = 0; i < count; i++) {
      var entry = ifd + 2 + i * 12;
      if (view.getUint16(entry, little) !== 0x0112) continue;
      if (view.getUint16(entry + 2, little) !== 3 || view.getUint32(entry + 4, little) !== 1) return false;
      view.setUint16(entry + 8, 1, little);
    }
    return true;
  }
  function bytesOf(blob) {
    return blob.arrayBuffer ? blob.arrayBuffer().then(function (b) { return new Uint8Array(b); }) : Promise.reject();
  }
  // The shrunk JPEG with the original's Exif right after its SOI and JFIF APP0 marker; as it was when none parses.
  function withExif(original, shrunk) {
    if (original.type !== "image/jpeg") return Promise.resolve(shrunk);
    return Promise.all([bytesOf(original.slice(0, 256 * 1024)), bytesOf(shrunk)]).then(function (both) {
      var exif, out = both[1], at = 2;
      try { exif = exifSegment(both[0]); } catch (e) { exif = null; }
      if (!exif || out[0] !== 0xFF || out[1] !== 0xD8) return shrunk;
      if (out[2] === 0xFF && out[3] === 0xE0) at = 4 + ((out[4] << 8) | out[5]);
      return new Blob([out.subarray(0, at), exif, out.subarray(at)], { type: "image/jpeg" });
    }).catch(function () { return shrunk; });
  }
  var MAX_SIDE = 1600;
  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 400 * 1024 || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(resolve, "image/jpeg", 0.82);
      });
    }).then(function (blob) {
      return blob ? withExif(file, blob) : null;
    }).then(function (blob) {
      if (!blob || blob.size >= file.size) return file;
      var name = file.name.replace(/\.[^.]+$/, "") + ".jpg";
      return new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified });
    }).catch(function () { return file; });
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-shrink]") || !window.DataTransfer) return;
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) return;
    var status = document.getElementById(input.getAttribute("data-status"));
    if (status) status.textContent = "正在压缩照片…";
    Promise.all(files.map(shrink)).then(function (smaller) {
      var transfer = new DataTransfer();
      smaller.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
      var total = smaller.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (status) status.textContent = pickedText(input) + "，共 " + Math.max(1, Math.round(total / 1024)) + " KB";
    });
  });

  // Drafts: what was typed into a long form stays on the phone until the server has taken it.
  function draftKey(form) { return "verifier-draft:" + form.getAttribute("data-draft"); }
  function saveDraft(form) {
    if (!form || !form.hasAttribute("data-draft")) return;
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || el.type === "submit") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      data[el.name] = el.value;
    });
    try { localStorage.setItem(draftKey(form), JSON.stringify(data)); } catch (e) { /* storage full or off */ }
  }
  function restoreDraft(form) {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (e) { saved = null; }
    if (!saved) return;
    // Each list of rows (members, bills) gets as many rows as the draft has.
    Array.prototype.forEach.call(form.querySelectorAll("[data-add-row]"), function (add) {
      var list = add.getAttribute("data-add-row");
      var rows = Object.keys(saved).map(function (k) {
        var m = k.indexOf(list + "[") === 0 ? /^[^[]+\[(\d+)\]/.exec(k) : null;
        return m ? +m[1] : -1;
      });
      var need = Math.max.apply(null, rows.concat([-1]));
      while (need >= nextIndex(document.getElementById(list))) add.click();
    });
    Object.keys(saved).forEach(function (name) {
      Array.prototype.forEach.call(form.querySelectorAll("[name=\"" + name.replace(/"/g, "") + "\"]"), function (el) {
        if (el.type === "radio" || el.type === "checkbox") el.checked = el.value === saved[name];
        else el.value = saved[name];
      });
    });
    var note = form.querySelector("[data-draft-note]");
    if (note) note.hidden = false;
  }
  document.addEventListener("input", function (event) { saveDraft(event.target.form); });
  document.addEventListener("change", function (event) { saveDraft(event.target.form); });
  document.addEventListener("click", function (event) {
    var clear = event.target.closest("[data-clear-draft-now]");
    if (!clear) return;
    var form = clear.closest("form");
    try { localStorage.removeItem(draftKey(form)); } catch (e) { /* ignore */ }
    window.location.reload();
  });

  // 生成支付批次: the count and total of the cases chosen follow each tick (the server adds them up again on every
  // send); 全选显示的 / 取消选择显示的 tick or clear the rows shown here without a round trip.
  function yuanOf(fen) {  // as the pages write money (domain.money.grouped_yuan, then 元): 28,200.00 元
    var whole = Math.floor(fen / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return whole + "." + ("0" + (fen % 100)).slice(-2) + " 元";
  }
  function chosenFields(form) {  // the chosen cases: those not shown (hidden fields) and the ticked rows
    return Array.prototype.filter.call(form.querySelectorAll("input[name=case_ids]"), function (i) {
      return i.type === "hidden" || i.checked;
    });
  }
  function chosenSum(form) {
    var chosen = chosenFields(form), fen = 0;
    var notShown = form.querySelectorAll("input[type=hidden][name=case_ids]").length;
    chosen.forEach(function (i) { fen += Number(i.getAttribute("data-fen") || 0); });
    form.querySelector("[data-chosen-count]").textContent = String(chosen.length);
    form.querySelector("[data-chosen-total]").textContent = yuanOf(fen);
    form.querySelector("[data-hidden-count]").textContent = String(notShown);
    form.querySelector("[data-hidden-note]").hidden = !notShown;
  }
  // The choice survives Back, Forward and a reload. A search's or a refused batch's answer stands in the history as
  // the page's GET address (forgetThePost), which the server answers with every case ready chosen; so the choice made
  // on a page is kept in its history entry's state and put back when the entry's page is loaded again. A case no
  // longer on the page (paid or held meanwhile: every case ready is on the GET page) is not put back.
  function choiceKey(form) { return form.elements.county_code.value + "/" + form.elements.contract_id.value; }
  function keepChoice(form) {
    if (!window.history || !history.replaceState) return;
    var state = {}, old = history.state;
    if (old && typeof old === "object") Object.keys(old).forEach(function (k) { state[k] = old[k]; });
    state.choice = { key: choiceKey(form), ids: chosenFields(form).map(function (i) { return i.value; }) };
    try { history.replaceState(state, ""); } catch (e) { /* too large, or another origin: the server's choice */ }
  }
  function restoreChoice(form) {
    var kept = history.state && history.state.choice;
    if (!kept || kept.key !== choiceKey(form) || !kept.ids) return;
    var ids = {};
    kept.ids.forEach(function (id) { ids[id] = true; });
    form.querySelectorAll("input[name=case_ids]").forEach(function (i) {
      if (i.type !== "hidden") i.checked = !!ids[i.value];
      else if (!ids[i.value]) i.remove();
    });
  }
  function choosers() {  // a POST's answer says what was chosen; a page loaded by GET takes back its entry's choice
    var answer = document.body && document.body.getAttribute("data-form-page");
    document.querySelectorAll("form[data-choose]").forEach(function (form) {
      if (!answer) restoreChoice(form);
      chosenSum(form);
      keepChoice(form);
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-choose]");
    if (form && event.target.name === "case_ids") { chosenSum(form); keepChoice(form); }
  });
  document.addEventListener("click", function (event) {
    var pick = event.target.closest && event.target.closest("form[data-choose] [data-pick]");
    if (!pick) return;
    event.preventDefault();
    var form = pick.closest("form");
    var on = pick.getAttribute("data-pick") === "all";
    form.querySelectorAll("input[type=checkbox][name=case_ids]").forEach(function (b) { b.checked = on; });
    chosenSum(form);
    keepChoice(form);
  });

  // Forms: one submission at a time, on the whole page (a slow network invites a second tap, and a second tap must
  // not land on another form's button). Nothing changes size or place while a form is sent: the button keeps its
  // label and only looks busy, so no other button can slide under the pointer.
  var sending = null;
  function release() {
    if (!sending) return;
    sending.form.removeAttribute("data-submitting");
    if (sending.button) sending.button.removeAttribute("aria-busy");
    sending = null;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var posting = (form.getAttribute("method") || "get").toLowerCase() === "post";
    if (form.hasAttribute("data-submitting") || (posting && sending)) { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "");
    saveDraft(form);
    var button = event.submitter || form.querySelector("button[type=submit]");
    if (button) button.setAttribute("aria-busy", "true");
    var mine = { form: form, button: button };
    if (posting) sending = mine;
    setTimeout(function () {
      if (sending === mine) release();
      else { form.removeAttribute("data-submitting"); if (button) button.removeAttribute("aria-busy"); }
    }, 15000);
  });
  // Back to a page kept in memory: nothing is being sent any more.
  window.addEventListener("pageshow", function () {
    release();
    document.querySelectorAll("form[data-submitting]").forEach(function (f) { f.removeAttribute("data-submitting"); });
    document.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
  });

  // The browser's own check of a field (required, pattern, min, max) says what is wrong in Chinese, whatever language
  // the browser itself speaks: its "Please fill out this field." would be the only English a clerk meets.
  function fieldProblem(el) {
    var v = el.validity;
    if (v.valueMissing) {
      if (el.type === "checkbox") return "请勾选此项";
      if (el.type === "radio" || el.tagName === "SELECT") return "请选择一项";
      if (el.type === "file") return "请选择文件";
      return "请填写此项";
    }
    if (v.badInput) return el.type === "date" || el.type === "month" ? "请填写完整的日期" : "请填写数字";
    if (v.patternMismatch || v.typeMismatch) return el.getAttribute("title") || "格式不正确，请按提示填写";
    if (v.rangeUnderflow) return "不能小于 " + el.min;
    if (v.rangeOverflow) return "不能大于 " + el.max;
    if (v.stepMismatch) return "请填写有效的数值";
    if (v.tooLong) return "最多 " + el.maxLength + " 个字符";
    if (v.tooShort) return "至少 " + el.minLength + " 个字符";
    return "";
  }
  document.addEventListener("invalid", function (event) {
    var el = event.target;
    if (!el.setCustomValidity || !el.validity) return;
    el.setCustomValidity("");
    if (!el.validity.valid) el.setCustomValidity(fieldProblem(el) || "请检查此项");
  }, true);
  function recheck(event) {
    if (event.target.setCustomValidity) event.target.setCustomValidity("");
  }
  document.addEventListener("input", recheck, true);
  document.addEventListener("change", recheck, true);

  // The check form's 补录原因: shown when the visit day chosen is more than a few days back, before the visit was
  // scheduled, or back at all on an overdue case (or when it holds text or an error). The server decides; without this file the field is always there, with its hint.
  function lateEntry(box) {
    var day = document.getElementById(box.getAttribute("data-late-entry"));
    if (!day) return;
    var visited = Date.parse(day.value), today = Date.parse(box.getAttribute("data-today"));
    var scheduled = Date.parse(box.getAttribute("data-scheduled") || ""), due = Date.parse(box.getAttribute("data-due") || "");
    var late = !isNaN(visited) && !isNaN(today) &&
      ((today - visited) / 86400000 > parseInt(box.getAttribute("data-after-days"), 10) ||
       (!isNaN(scheduled) && visited < scheduled) || (!isNaN(due) && today > due && visited < today));
    var reason = box.querySelector("textarea");
    box.hidden = !(late || (reason && reason.value.trim()) || box.querySelector(".error"));
  }
  // A phone's date box shows the day as the phone's language writes it (12/06/2026): the day chosen is said beside
  // it in Chinese (_forms.html `day`), kept in step here.
  function dayRead(day) {
    var read = day.id && document.querySelector('[data-day-read="' + day.id + '"]');
    if (!read) return;
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.value);
    read.textContent = m ? m[1] + "年" + parseInt(m[2], 10) + "月" + parseInt(m[3], 10) + "日" : "未选择";
  }
  document.addEventListener("input", function (event) { if (event.target.type === "date") dayRead(event.target); });
  document.addEventListener("change", function (event) { if (event.target.type === "date") dayRead(event.target); });
  window.addEventListener("pageshow", function () { document.querySelectorAll("input[type=date]").forEach(dayRead); });
  function lateEntries() { document.querySelectorAll("[data-late-entry]").forEach(lateEntry); }
  document.addEventListener("input", function (event) { if (event.target.type === "date") lateEntries(); });
  document.addEventListener("change", function (event) { if (event.target.type === "date") lateEntries(); });
  // The application form's town and village: htmx replaces both when the town changes, with the village as it was
  // when the town was picked. A village picked while that answer was on its way (a quick hand, a slow connection)
  // stays picked when it is one of the new town's villages, instead of being silently emptied.
  var villageBeforeSwap = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var village = document.getElementById("f-village");
    villageBeforeSwap = target && target.id === "place-fields" && village ? village.value : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    var kept = villageBeforeSwap, village = document.getElementById("f-village");
    villageBeforeSwap = null;
    if (!kept || !village || village.value || village.tagName !== "SELECT") return;
    var offered = Array.prototype.some.call(village.options, function (o) { return o.value === kept; });
    if (offered) village.value = kept;
  });

  // The printable pages' 打印 button (shown only with JavaScript; the browser's own print works without).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  // A refused form's answer (shown again as typed, with what is wrong) stands in the history as the form's page, a GET
  // address: pages are never cached, so Back or Forward onto the answer of a POST would show the browser's own
  // "Confirm Form Resubmission" page, and a resubmission from there would send the form again.
  function forgetThePost() {
    var address = document.body && document.body.getAttribute("data-form-page");
    if (!address || address.charAt(0) !== "/" || /^\/[\/\\]/.test(address) || !window.history ||
        !history.replaceState) return;  // a path on this site only, never "//host" or "/\\host"
    try { history.replaceState(history.state, "", address + location.hash); } catch (e) { /* another origin */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    forgetThePost();
    document.querySelectorAll("[data-js]").forEach(function (el) { el.hidden = false; });
    dressFileInputs();
    // With the add button working, one empty member row is enough: drop the spare ones the server sent.
    document.querySelectorAll("[data-trim-rows]").forEach(function (list) {
      var seen = false;
      list.querySelectorAll("[data-row]").forEach(function (row) {
        var empty = Array.prototype.every.call(row.querySelectorAll("input"), function (i) { return !i.value; });
        if (empty && seen) row.remove();
        if (empty) seen = true;
      });
      renumber(list);
    });
    // A refused form: bring the first field to correct into view (on a phone the message at the top of a long form
    // says "请按标红处修改", and the field may be several screens below it).
    var bad = document.querySelector("main form [aria-invalid=true]");
    if (bad && bad.scrollIntoView) (bad.closest(".field, fieldset") || bad).scrollIntoView({ block: "center" });
    var done = document.body.getAttribute("data-clear-draft");
    if (done) { try { localStorage.removeItem("verifier-draft:" + done); } catch (e) { /* ignore */ } }
    document.querySelectorAll("form[data-draft][data-draft-restore]").forEach(restoreDraft);
    lateEntries();
    choosers();
    openNamed();
  });
  // A link to a part folded away (#result-… inside a closed <details>, a sampled household's form): open it.
  function openNamed() {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }  // a malformed #%… names nothing
    var target = id && document.getElementById(id);
    var folded = target && target.closest("details");
    if (folded && !folded.open) { folded.open = true; target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openNamed);

  // A list's way back. A list page (one with its own search form) keeps, for this tab, the query it was last shown
  // with: its filters, search and page, never a `done` message. A link marked data-list (← 支付批次 on a batch, say)
  // leads back to that list as it was left, not to its unfiltered first page; without a kept query (another tab,
  // storage refused) it stays the plain list.
  function listKey(path) { return "verifier:list:" + path; }
  function keepList() {
    if (!document.querySelector("main form[role=search]")) return;
    var query = new URLSearchParams(location.search);
    query.delete("done");
    try { sessionStorage.setItem(listKey(location.pathname), query.toString()); } catch (e) { /* storage refused */ }
  }
  function listLinks() {
    document.querySelectorAll("a[data-list]").forEach(function (a) {
      var path = a.getAttribute("data-list"), query = null;
      try { query = sessionStorage.getItem(listKey(path)); } catch (e) { /* storage refused */ }
      a.setAttribute("href", query ? path + "?" + query : path);
    });
  }
  keepList();
  listLinks();
  document.addEventListener("htmx:pushedIntoHistory", keepList);
  window.addEventListener("pageshow", listLinks);
})();
