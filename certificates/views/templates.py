"""Organisers: certificate templates — the list, the editor (settings, background, the
fields placed on the page, signature images), the preview with sample data."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from certificates.forms.templates import (
    BackgroundForm,
    LayoutForm,
    SignatureForm,
    TemplateForm,
)
from certificates.layout import FIELD_TYPES, FONTS, LayoutError, page_size_mm
from certificates.models import CertificateAsset, CertificateTemplate, TemplateKind
from certificates.rendering import (
    SAMPLE_VERIFY_URL,
    field_values,
    render_certificate,
    sample_snapshot,
)
from certificates.services import templates as service
from certificates.views import bp
from webapp import storage
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import roles_required


def _template(template_id: int) -> CertificateTemplate:
    return db.get_or_404(CertificateTemplate, template_id)


@bp.route("/certificates/templates/")
@roles_required(Role.ORGANISER)
def templates():
    return _templates_page(TemplateForm())


def _templates_page(form: TemplateForm, status: int = 200):
    service.ensure_defaults()
    page = service.templates_page(request.args.get("page", 1, type=int))
    in_use = service.templates_in_use([template.id for template in page.items])
    return (
        render_template(
            "certificates/template_list.html",
            page=page,
            in_use=in_use,
            form=form,
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.route("/certificates/templates/new", methods=["POST"])
@roles_required(Role.ORGANISER)
def new_template():
    form = TemplateForm()
    if not form.validate_on_submit():
        return _templates_page(form, 400)
    template = service.create_template(form.title.data, TemplateKind(form.kind.data))
    flash(_("Template created from the standard design: place its fields and save."))
    return redirect(url_for("certificates.edit_template", template_id=template.id))


@bp.route("/certificates/templates/<int:template_id>")
@roles_required(Role.ORGANISER)
def edit_template(template_id: int):
    template = _template(template_id)
    return _editor(template, TemplateForm(obj=template), _layout_form(template.layout))


def _layout_form(layout: dict) -> LayoutForm:
    """The rows of a layout, plus one empty row to add a field without JavaScript."""
    rows = []
    for field in layout.get("fields", []):
        row = {key: field.get(key) for key in ("type", "x", "y", "width", "height", "size")}
        row.update(
            font=field.get("font", "sans"),
            align=field.get("align", "center"),
            color=field.get("color", "#000000"),
            text=field.get("text", ""),
            image=field.get("image", ""),
        )
        rows.append({key: _plain(value) for key, value in row.items()})
    rows.append({"font": "sans", "align": "center", "color": "#000000", "size": "12"})
    return LayoutForm(formdata=None, data={"fields": rows})


def _plain(value) -> str:
    """12.0 → '12', 12.5 → '12.5': the coordinates table reads like what was typed."""
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _editor(
    template: CertificateTemplate,
    settings: TemplateForm,
    layout_form: LayoutForm,
    layout_errors: list[str] | None = None,
    status: int = 200,
):
    page_width, page_height = page_size_mm(template.landscape)
    samples = field_values(sample_snapshot(template.kind))
    editor = {
        "page": {"width": page_width, "height": page_height},
        "samples": samples,
        "labels": {kind: str(label) for kind, label in FIELD_TYPES.items()},
        "fonts": list(FONTS),
        "assets": {
            asset.storage_name: url_for(
                "certificates.template_asset", template_id=template.id, asset_id=asset.id
            )
            for asset in template.assets
        },
    }
    background_url = None
    if template.background_storage_name and service.preview_available():
        background_url = url_for(
            "certificates.template_background_png",
            template_id=template.id,
            v=template.background_storage_name[:8],
        )
    return (
        render_template(
            "certificates/template_edit.html",
            template=template,
            settings=settings,
            layout_form=layout_form,
            layout_errors=layout_errors or [],
            background_form=BackgroundForm(),
            signature_form=SignatureForm(),
            confirm=ConfirmForm(),
            editor=editor,
            background_url=background_url,
            in_use=bool(service.templates_in_use([template.id])),
        ),
        status,
    )


@bp.route("/certificates/templates/<int:template_id>/settings", methods=["POST"])
@roles_required(Role.ORGANISER)
def template_settings(template_id: int):
    template = _template(template_id)
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            service.save_settings(template, form.title.data, TemplateKind(form.kind.data))
        except service.TemplateRefused as refused:
            form.kind.errors.append(refused.message)
        else:
            flash(_("Template saved."))
            return redirect(url_for("certificates.edit_template", template_id=template.id))
    return _editor(template, form, _layout_form(template.layout), status=400)


@bp.route("/certificates/templates/<int:template_id>/layout", methods=["POST"])
@roles_required(Role.ORGANISER)
def template_layout(template_id: int):
    template = _template(template_id)
    form = LayoutForm()
    if form.validate_on_submit():
        try:
            service.save_layout(template, form.layout())
        except LayoutError as error:
            return _editor(template, TemplateForm(obj=template), form, error.messages, 400)
        flash(_("Layout saved: version %(n)d.", n=template.version))
        return redirect(url_for("certificates.edit_template", template_id=template.id))
    return _editor(template, TemplateForm(obj=template), form, [_("Send the form again.")], 400)


@bp.route("/certificates/templates/<int:template_id>/preview.pdf", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def template_preview(template_id: int):
    """The template with sample data: as saved (GET), or with the editor's unsaved
    fields (POST, nothing stored)."""
    template = _template(template_id)
    if request.method == "POST":
        form = LayoutForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            layout = service.checked_layout(template, form.layout())
        except LayoutError as error:
            return _editor(template, TemplateForm(obj=template), form, error.messages, 400)
        db.session.expunge(template)  # a preview of unsaved changes never reaches the database
        template.layout = layout
    pdf = render_certificate(template, sample_snapshot(template.kind), SAMPLE_VERIFY_URL)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = "inline; filename=preview.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/certificates/templates/<int:template_id>/background.png")
@roles_required(Role.ORGANISER)
def template_background_png(template_id: int):
    png = service.background_png(_template(template_id))
    if png is None:
        abort(404)
    response = make_response(png)
    response.headers["Content-Type"] = "image/png"
    # the URL names the background file, so a new background is a new URL
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.route("/certificates/templates/<int:template_id>/background", methods=["POST"])
@roles_required(Role.ORGANISER)
def template_background(template_id: int):
    template = _template(template_id)
    note = _take_upload(BackgroundForm(), template, service.set_background)
    if note is not None:
        flash(note or _("Background uploaded."), "warning" if note else "message")
    return redirect(url_for("certificates.edit_template", template_id=template.id))


def _take_upload(form, template, save) -> str | None:
    """Hand the form's file to `save(template, stream, name)`; flash why it was refused and
    return None then, else what `save` returned ("" when it has nothing to say)."""
    if not form.validate_on_submit():
        for message in form.file.errors:
            flash(message, "danger")
        return None
    upload = form.file.data
    try:
        return save(template, upload.stream, upload.filename or "") or ""
    except service.TemplateRefused as refused:
        flash(refused.message, "danger")
        return None


@bp.route("/certificates/templates/<int:template_id>/background/remove", methods=["POST"])
@roles_required(Role.ORGANISER)
def remove_background(template_id: int):
    template = _template(template_id)
    if ConfirmForm().validate_on_submit():
        service.remove_background(template)
        flash(_("Background removed: the certificate is printed on a white page."))
    return redirect(url_for("certificates.edit_template", template_id=template.id))


@bp.route("/certificates/templates/<int:template_id>/signature", methods=["POST"])
@roles_required(Role.ORGANISER)
def template_signature(template_id: int):
    template = _template(template_id)
    if _take_upload(SignatureForm(), template, service.add_signature) is not None:
        flash(_("Signature added at the bottom of the page: drag it into place."))
    return redirect(url_for("certificates.edit_template", template_id=template.id))


@bp.route("/certificates/templates/<int:template_id>/assets/<int:asset_id>")
@roles_required(Role.ORGANISER)
def template_asset(template_id: int, asset_id: int):
    asset = db.session.get(CertificateAsset, asset_id)
    if asset is None or asset.template_id != template_id:
        abort(404)
    path = storage.stored_path(asset.storage_name)
    content_type = storage.detect_type(path)
    response = make_response(path.read_bytes())
    response.headers["Content-Type"] = content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.route("/certificates/templates/<int:template_id>/duplicate", methods=["POST"])
@roles_required(Role.ORGANISER)
def duplicate_template(template_id: int):
    template = _template(template_id)
    if ConfirmForm().validate_on_submit():
        copy = service.duplicate_template(template)
        flash(_("Copied as “%(title)s”.", title=copy.title))
    return redirect(url_for("certificates.templates"))


@bp.route("/certificates/templates/<int:template_id>/delete", methods=["POST"])
@roles_required(Role.ORGANISER)
def delete_template(template_id: int):
    template = _template(template_id)
    if ConfirmForm().validate_on_submit():
        try:
            service.delete_template(template)
        except service.TemplateRefused as refused:
            flash(refused.message, "danger")
        else:
            flash(_("Template deleted."))
    return redirect(url_for("certificates.templates"))


@bp.route("/certificates/templates/<int:template_id>/default", methods=["POST"])
@roles_required(Role.ORGANISER)
def default_template(template_id: int):
    template = _template(template_id)
    if ConfirmForm().validate_on_submit():
        service.make_default(template)
        flash(_("“%(title)s” is now the default for its kind.", title=template.title))
    return redirect(url_for("certificates.templates"))
