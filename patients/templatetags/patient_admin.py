"""The admin site's patient list, its rows written in one pass.

Django's ``result_list`` works out every cell through the admin's generic machinery (the
field, its display, its escaping) and resolves each row's link again to keep the list's
filters: most of the time a search of the patient list takes. The rows here are written
directly, cell for cell as Django writes them (``tests/clinic/test_admin.py`` compares the
two), and the link is worked out once for the whole list. A list this does not know
(a popup, other columns, editable rows) is Django's own."""

from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils import formats
from django.utils.safestring import mark_safe

from patients.models import Patient

register = template.Library()

#: Stands in for a patient's id while the link is worked out once, as in ``clinic.links``;
#: here the id is the first number of the link (the kept filters, which may hold any
#: number, come after it), where ``link_maker`` takes the last.
_MARK = 987654321


def patient_result_list(cl) -> dict:
    """``result_list``'s context for ``change_list_results.html``."""
    row = _row_writer(cl)
    if row is None:
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": [row(patient) for patient in cl.result_list],
    }


@register.tag(name="patient_result_list")
def patient_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=patient_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )


def _row_writer(cl):
    """A function writing one patient's cells, or None for a list it does not know."""
    if cl.is_popup or cl.formset or list(cl.list_display_links or ()) != ["patient"]:
        return None
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    link = add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts},
        cl.url_for_result(Patient(pk=_MARK)),
    )
    head, _, tail = escape(link).partition(str(_MARK))  # the path's id comes first

    def text(value) -> str:
        value = "" if value is None else str(value)
        return escape(value) if value.strip() else empty

    cells = {
        "action_checkbox": lambda p: (
            f'<td class="action-checkbox">{model_admin.action_checkbox(p)}</td>'
        ),
        "patient": lambda p: (
            f'<th class="field-patient"><a href="{head}{p.pk}{tail}">'
            f"{text(model_admin.patient(p))}</a></th>"
        ),
        "date_of_birth": lambda p: (
            f'<td class="field-date_of_birth nowrap">{text(formats.localize(p.date_of_birth))}</td>'
        ),
        "phone": lambda p: f'<td class="field-phone">{text(p.phone)}</td>',
        "status": lambda p: f'<td class="field-status">{text(model_admin.status(p))}</td>',
    }
    try:
        writers = [cells[name] for name in cl.list_display]
    except KeyError:  # a column this does not write
        return None
    return lambda patient: [mark_safe(write(patient)) for write in writers]
