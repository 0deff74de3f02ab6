"""A refused form keeps what was typed: every page form is sent with each of its text boxes and text areas holding
words of its own (which most fields refuse), and the page that says what is wrong shows those words again in the
same boxes (a clerk who typed a long reason or note never types it twice)."""

from __future__ import annotations

from html.parser import HTMLParser

from test_web_forms_speak_chinese import _fill, _login_for, _post_routes, _world

MARK = "甲乙丙丁"  # refused by every number, day, money or code field; kept as typed by every text field


class _Boxes(HTMLParser):
    """The text boxes and text areas of the forms posting to one action: {name: value shown}; and their hidden
    fields (which say which party, case or row the form is for), sent as they are."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.area = action, False, ""
        self.boxes: dict[str, str] = {}
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = ((a.get("method") or "get").lower() == "post"
                           and (a.get("action") or "").split("?")[0].rstrip("/") == self.action.rstrip("/"))
        elif not self.inside or "__i__" in (a.get("name") or "__i__"):  # a row's template for the script to copy
            return
        elif tag == "input" and a.get("type") == "hidden" and a["name"] != "_csrf_token":
            self.hidden.setdefault(a["name"], a.get("value") or "")  # type: ignore[index]
        elif tag == "input" and (a.get("type") or "text") in ("text", "search", "tel"):
            self.boxes.setdefault(a["name"], a.get("value") or "")  # type: ignore[index]
        elif tag == "textarea":
            self.area = a["name"]  # type: ignore[assignment]
            self.boxes.setdefault(self.area, "")

    def handle_data(self, data: str) -> None:
        if self.area:
            self.boxes[self.area] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.area = ""


def boxes_of(html: str, action: str) -> _Boxes:
    parser = _Boxes(action)
    parser.feed(html)
    return parser


def test_every_refused_page_form_shows_what_was_typed_again(pages, client, ctx, users) -> None:  # type: ignore[no-untyped-def]
    world = _world(ctx, pages, users)
    forgot: list[str] = []
    refused = compared = 0
    for template, roles, has_get in _post_routes(client):
        if template in ("/logout", "/login") or template.endswith("/password"):
            continue
        path = _fill(template, world)
        _login_for(pages, ctx, path, roles)
        holder = path if has_get else (path.rsplit("/", 1)[0] or "/")
        form = boxes_of(pages.get(holder).text, path)
        typed = {name: f"{MARK}{i}" for i, name in enumerate(form.boxes)}
        if not typed:
            continue
        r = pages.post(path, {**form.hidden, **typed})
        if r.status_code in (302, 303) or "text/html" not in r.headers.get("content-type", ""):
            continue
        refused += 1
        shown = boxes_of(r.text, path).boxes
        if not shown:
            continue  # a page without the form (an error page saying why the action is not possible)
        compared += 1
        lost = [n for n, v in typed.items() if n in shown and shown[n].strip() != v]
        if lost:
            forgot.append(f"{template} ({r.status_code}): {', '.join(sorted(lost))}")
    assert refused >= 12 and compared >= 12, (refused, compared)  # the forms were found, filled, refused, shown again
    assert forgot == [], "\n".join(forgot)
