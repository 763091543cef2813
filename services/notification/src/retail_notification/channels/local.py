"""The embedded default: messages are written to a folder, one JSON file each, so the local
platform sends real messages somewhere a developer can read them with no account anywhere."""

import asyncio
import json
from pathlib import Path

from retail_kernel.files import write_atomically
from retail_notification.channels.base import Outgoing


class LocalOutbox:
    def __init__(self, folder: Path, channel: str) -> None:
        self.folder = folder / channel
        self.name = f"local-{channel}"

    async def send(self, message: Outgoing) -> str:
        path = self.folder / f"{message.id}.json"
        document = {
            "id": str(message.id),
            "channel": message.channel,
            "to": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "html": message.html,
        }
        # Readers (a developer, the tests) never see half a message.
        await asyncio.to_thread(write_atomically, path, json.dumps(document, indent=2))
        return f"local:{path.name}"
