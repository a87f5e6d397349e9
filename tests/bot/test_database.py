import logging

from bot.config import parse_config
from bot.database import open_store
from tests.bot.helpers import linked_member


async def test_generated_key_file_is_private_reused_and_announced_once(
    tmp_path, caplog, fake_imgur, clock
):
    config = parse_config({"storage": {"database": str(tmp_path / "bot.db")}}, {})
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        first = await open_store(config)
        link = await linked_member(first, fake_imgur, "alice", user_id=1, now=clock())
        await first.close()
        second = await open_store(config)
        try:
            stored = await second.get(1)
            assert stored is not None
            assert stored.access_token == link.access_token  # same key
        finally:
            await second.close()
    key_file = tmp_path / "bot.db.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    warnings = [r.getMessage() for r in caplog.records if "BOT_ENCRYPTION_KEY" in r.getMessage()]
    assert len(warnings) == 1
    assert key_file.read_text().strip() not in warnings[0]


async def test_a_configured_key_writes_no_key_file(tmp_path, caplog):
    from bot.storage import generate_key

    config = parse_config(
        {"storage": {"database": str(tmp_path / "bot.db")}}, {"BOT_ENCRYPTION_KEY": generate_key()}
    )
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        await (await open_store(config)).close()
    assert not (tmp_path / "bot.db.key").exists()
    assert not [r for r in caplog.records if "BOT_ENCRYPTION_KEY" in r.getMessage()]
