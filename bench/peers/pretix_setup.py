"""Run by pretix's own Python (bench/out/peers/pretix-venv), not Tropa's: builds the pretix side
of the peer benchmark — an organiser, a live event with one free ticket, a check-in list,
`--attendees` paid orders and a quota of `--places` for the burst — and prints what the
benchmark needs as JSON (secrets, ids, an API token).

    PRETIX_CONFIG_FILE=… bench/out/peers/pretix-venv/bin/python bench/peers/pretix_setup.py
"""

import argparse
import json
import secrets
from datetime import timedelta

import django

django.setup()

from django.db import transaction  # noqa: E402
from django.utils.timezone import now  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402
from pretix.base.models import (  # noqa: E402
    CheckinList,
    Event,
    Item,
    Order,
    OrderPosition,
    Organizer,
    Quota,
    Team,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attendees", type=int, default=5000)
    parser.add_argument("--places", type=int, default=150)
    options = parser.parse_args()
    with scopes_disabled(), transaction.atomic():
        organizer = Organizer.objects.create(name="Центр", slug="centre")
        team = Team.objects.create(
            organizer=organizer, name="Door", all_events=True, all_event_permissions=True,
            all_organizer_permissions=True,
        )  # fmt: skip
        token = team.tokens.create(name="bench").token
        door = _event(organizer, "forum", "Форум НКО 2026")
        door_item = door.items.get()
        door_quota = door.quotas.get()
        door_quota.size = None
        door_quota.save()
        checkin_list = CheckinList.objects.create(event=door, name="Вход", all_products=True)
        ticket_secrets = _paid_orders(door, door_item, options.attendees)
        burst = _event(organizer, "seminar", "Семинар")
        burst_quota = burst.quotas.get()
        burst_quota.size = options.places
        burst_quota.save()
        burst_item = burst.items.get().pk
    print(
        json.dumps(
            {
                "organizer": organizer.slug,
                "token": token,
                "door_event": door.slug,
                "checkin_list": checkin_list.pk,
                "secrets": ticket_secrets,
                "burst_event": burst.slug,
                "burst_item": burst_item,
            }
        )
    )


def _event(organizer, slug: str, name: str) -> Event:
    event = Event.objects.create(
        organizer=organizer, name=name, slug=slug, currency="RUB", live=True,
        date_from=now() + timedelta(hours=1), presale_start=now() - timedelta(days=1),
    )  # fmt: skip
    item = Item.objects.create(event=event, name="Участие", default_price=0, admission=True)
    quota = Quota.objects.create(event=event, name="Места", size=0)
    quota.items.add(item)
    return event


def _paid_orders(event, item, count: int) -> list[str]:
    """Paid orders written in bulk, as pretix's own order creation would leave them."""
    orders = Order.objects.bulk_create(
        Order(
            event=event, organizer=event.organizer, code=f"B{number:05d}",
            email=f"guest{number:05d}@example.org",
            status=Order.STATUS_PAID, total=0, locale="ru", datetime=now(),
            expires=now() + timedelta(days=10), secret=secrets.token_hex(8),
            sales_channel=event.organizer.sales_channels.get(identifier="web"),
        )
        for number in range(count)
    )  # fmt: skip
    ticket_secrets = [secrets.token_hex(16) for _ in orders]
    OrderPosition.objects.bulk_create(
        OrderPosition(
            order=order, organizer=event.organizer, item=item, price=0, tax_value=0, tax_rate=0,
            positionid=1,
            secret=secret, pseudonymization_id=secret[:10].upper(),
            attendee_name_parts={"_legacy": f"Участник {number:05d}"},
        )
        for number, (order, secret) in enumerate(zip(orders, ticket_secrets, strict=True))
    )  # fmt: skip
    return ticket_secrets


if __name__ == "__main__":
    main()
