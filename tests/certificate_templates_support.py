"""A certificate template with a signature image, for the route table."""

import io

from PIL import Image

from certificates.models import TemplateKind
from certificates.services import templates as service
from webapp.extensions import db


def certificate_templates_world() -> dict:
    template = service.shipped_template(TemplateKind.COURSE, "Шаблон для проверки прав")
    db.session.commit()
    image = io.BytesIO()
    Image.new("RGBA", (300, 120), (0, 0, 90, 255)).save(image, format="PNG")
    image.seek(0)
    service.add_signature(template, image, "signature.png")
    return {"template_id": template.id, "asset_id": template.assets[0].id}
