"""Answers about shipping, returns and refunds, from the brand's facts in `brand.yml`."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation
from actions.handoff_flow import GuardedAction
from actions.services import get_services
from bot.settings.brand import country_key


def _days(text: str) -> str:
    return text.replace("-", "–")


class ActionShippingInfo(GuardedAction):
    """Delivery time and cost to a country, or the overview when no country is known."""

    def name(self) -> str:
        """Rasa name."""
        return "action_shipping_info"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Uses the country in the message, else the one mentioned earlier."""
        services = get_services()
        shipping = services.brand.shipping
        phrasing = services.phrasing(tracker.get_slot("language"))
        money = lambda amount: phrasing.money(amount, shipping.currency)  # noqa: E731
        country = conversation.latest_entity(tracker, "country") or tracker.get_slot("country")
        if not country:
            zones = "; ".join(
                phrasing.words("shipping_zone", zone=zone.name.of(phrasing.language),
                               days=phrasing.working_days(zone.delivery_days),
                               cost=money(zone.cost))
                for zone in shipping.zones
            )
            dispatcher.utter_message(
                response="utter_shipping_general",
                zones=zones,
                carriers=", ".join(shipping.carriers),
                free_threshold=money(shipping.free_shipping_threshold),
            )
            return []
        zone = shipping.zone_for(country)
        if zone is None:
            dispatcher.utter_message(
                response="utter_shipping_unknown_country",
                country=phrasing.country(country),
                countries=", ".join(phrasing.country(c) for z in shipping.zones
                                    for c in z.countries),
            )
            return [SlotSet("country", None)]
        canonical = next(
            (c for c in zone.countries if country_key(c) == country_key(country)), country
        )
        dispatcher.utter_message(
            response="utter_shipping_country",
            country=phrasing.country(canonical),
            delivery_days=_days(zone.delivery_days),
            cost=money(zone.cost),
            free_threshold=money(shipping.free_shipping_threshold),
        )
        express = shipping.express
        if shipping.express_for(canonical):
            dispatcher.utter_message(
                response="utter_shipping_express",
                express_days=express.delivery_days,
                express_cost=money(express.cost),
                order_before=express.order_before.strftime("%H:%M"),
            )
        else:
            dispatcher.utter_message(response="utter_shipping_no_express")
        return [SlotSet("country", canonical)]


class ActionReturnsInfo(GuardedAction):
    """The return window, conditions, how to get a label, exchanges."""

    def name(self) -> str:
        """Rasa name."""
        return "action_returns_info"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Fills `utter_returns_info` from brand.yml."""
        services = get_services()
        brand = services.brand
        phrasing = services.phrasing(tracker.get_slot("language"))
        language = phrasing.language
        returns = brand.returns
        label_cost = (
            phrasing.words("free")
            if returns.label_cost == 0
            else phrasing.money(returns.label_cost, brand.shipping.currency)
        )
        dispatcher.utter_message(
            response="utter_returns_info",
            window_days=returns.window_days,
            conditions="; ".join(returns.conditions.of(language)),
            label=returns.label.of(language),
            label_cost=label_cost,
            exchanges=returns.exchanges.of(language).rstrip("."),
        )
        return []


class ActionRefundInfo(GuardedAction):
    """How long a refund takes to reach the customer, per payment method."""

    def name(self) -> str:
        """Rasa name."""
        return "action_refund_info"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Lists the working days per payment method from brand.yml."""
        services = get_services()
        phrasing = services.phrasing(tracker.get_slot("language"))
        days = services.brand.refunds.days_by_payment_method
        refund_times = phrasing.listing([
            phrasing.words("refund_time", days=phrasing.working_days(value),
                           method=phrasing.payment_method(method))
            for method, value in days.items()
        ])
        dispatcher.utter_message(response="utter_refund_info", refund_times=refund_times)
        return []
