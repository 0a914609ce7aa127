"""A real SMTP server for the mail tests: `python3 smtp_sink.py PORT DIR`.

Listens on 127.0.0.1:PORT (aiosmtpd). Each accepted message is saved in DIR as
`NNNN.eml` (the bytes as received) and `NNNN.json` (envelope, headers and the decoded
text and HTML parts). Recipients starting with `bounce` are refused with
`550 5.1.1 no such user`, those starting with `later` with `451 4.3.0 try later`.
Runs until it is killed.
"""

import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.lower()
        if local.startswith("bounce"):
            return "550 5.1.1 no such user"
        if local.startswith("later"):
            return "451 4.3.0 try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": message.get("Message-ID"),
            "from": message.get("From"),
            "to": message.get("To"),
            "subject": message.get("Subject"),
            "content_type": message.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        with self.lock:
            self.count += 1
            stem = os.path.join(self.directory, "%04d" % self.count)
        with open(stem + ".eml", "wb") as f:
            f.write(raw)
        # The JSON file appears last and whole: readers see only complete messages.
        with open(stem + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(stem + ".tmp", stem + ".json")
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(
        Sink(directory), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True
    )
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
