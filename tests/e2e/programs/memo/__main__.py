"""One memo, its text from config, plus a secret passed through to an output."""

import pulumi
from e2e_memo import Memo

config = pulumi.Config()
if config.get_bool("raise"):
    raise ValueError("the program was told to fail")

memo = Memo(
    "greeting",
    folder=config.require("folder"),
    text=config.require("text"),
    fail_create=config.get_bool("failCreate") or False,
)

pulumi.export("memo_id", memo.id)
pulumi.export("text", memo.text)
pulumi.export("token", config.require_secret("token"))
pulumi.export("stack", pulumi.get_stack())
