"""`make demo`: retrieve a group MMS conversation from a local mock of the API, no account needed.

Prism answers from the pinned spec's examples, on 127.0.0.1, and rejects requests that break it.
"""

from __future__ import annotations

from pathlib import Path

from prism import running_prism
from telnyx_messages import Telnyx

ROOT = Path(__file__).resolve().parent.parent
GROUP_MESSAGE_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def main() -> None:
    with running_prism(ROOT / "openapi" / "messages.yml") as base_url:
        print(f"Local mock of the Telnyx Messages API (Prism) at {base_url}\n")
        # The mock accepts any bearer token; a real call reads TELNYX_API_KEY.
        with Telnyx(api_key="demo-key", base_url=base_url) as client:
            group = client.messages.retrieve_group_messages(GROUP_MESSAGE_ID)
        messages = group.data or []
        print(f"Group MMS {GROUP_MESSAGE_ID}: {len(messages)} message(s)\n")
        for message in messages:
            sender = message.from_.phone_number if message.from_ else "?"
            recipients = ", ".join(f"{to.phone_number} ({to.status})" for to in message.to or [])
            cost = f"{message.cost.amount} {message.cost.currency}" if message.cost else "n/a"
            print(f"  id        {message.id}")
            print(f"  {message.direction} {message.type}, received {message.received_at}")
            print(f"  from      {sender}")
            print(f"  to        {recipients}")
            print(f"  text      {message.text!r}")
            print(f"  media     {', '.join(m.url for m in message.media or [] if m.url) or 'none'}")
            print(f"  cost      {cost}\n")
    print("Mock stopped.")


if __name__ == "__main__":
    main()
