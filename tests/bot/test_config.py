from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from bot.imgur import ResponseType

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_holds_every_default():
    from_file = load_config(ROOT / "config.example.toml", env={})
    assert from_file == parse_config({}, {})


def test_every_config_key_is_documented_in_the_example():
    text = (ROOT / "config.example.toml").read_text()
    config = parse_config({}, {})
    for section_name in ("discord", "imgur", "storage", "refresh", "cache", "web", "logging"):
        assert f"[{section_name}]" in text
        section = getattr(config, section_name)
        for key in section.__dataclass_fields__:
            assert f"\n{key} = " in text, f"{section_name}.{key} is not documented"


def test_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[imgur]\nclient_id = "from-file"\nresponse_type = "code"\n')
    config = load_config(path, env={"IMGUR_CLIENT_ID": "from-env"})
    assert config.imgur.client_id == "from-env"
    assert config.imgur.response_type is ResponseType.CODE


def test_bot_config_variable_names_the_file(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text("[refresh]\nconcurrency = 3\n")
    assert load_config(env={"BOT_CONFIG": str(path)}).refresh.concurrency == 3


def test_missing_explicit_file_is_one_clear_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_default_file_may_be_absent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).storage.database == "data/bot.db"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"imgur": {"response_type": "magic"}}, "imgur.response_type: must be pin, code or token"),
        ({"refresh": {"concurrency": 0}}, "refresh.concurrency: must be between 1 and 256"),
        ({"refresh": {"interval_seconds": "soon"}}, "refresh.interval_seconds: must be a number"),
        ({"discord": {"sync_commands": "guild:abc"}}, "discord.sync_commands: must be global"),
        ({"discord": {"gateway_url": "http://x"}}, "discord.gateway_url: must be a ws or wss URL"),
        ({"web": {"enabled": True}}, "web.public_url: required when web.enabled"),
        ({"web": {"enabled": "perhaps"}}, "web.enabled: must be true or false"),
        ({"imgur": {"colour": "blue"}}, "imgur.colour: unknown key"),
        ({"extras": {}}, r"\[extras\]: unknown section"),
        ({"storage": {"database": ""}}, "storage.database: must not be empty"),
        ({"logging": {"level": "LOUD"}}, "logging.level: must be DEBUG"),
    ],
)
def test_bad_values_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, {})


def test_bad_toml_is_reported_without_traceback(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[imgur\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={})


def test_secret_values_never_appear_in_errors_or_repr():
    secret = "d152b7894fd0e4817b2892fefebca4274639effe"
    with pytest.raises(ConfigError) as caught:
        parse_config({"imgur": {"client_secret": 12}}, {})
    assert "12" not in str(caught.value)
    config = parse_config({}, {"IMGUR_CLIENT_SECRET": secret, "DISCORD_TOKEN": secret})
    assert secret not in repr(config)


def test_require_credentials_names_what_to_set():
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"imgur": {"link_methods": ["oauth"]}}, {"IMGUR_CLIENT_ID": "abc"}
        ).require_credentials()
    assert "DISCORD_TOKEN" in str(caught.value)
    assert "IMGUR_CLIENT_SECRET" in str(caught.value)
    assert "IMGUR_CLIENT_ID" not in str(caught.value)


def test_the_client_secret_is_optional_while_bio_is_a_link_method():
    config = parse_config({}, {"IMGUR_CLIENT_ID": "abc", "DISCORD_TOKEN": "t"})
    config.require_credentials()
    assert config.imgur.link_methods == ("oauth", "bio")
    assert config.imgur.methods_in_force == ("bio",)
    with_secret = parse_config({}, {"IMGUR_CLIENT_SECRET": "s"})
    assert with_secret.imgur.methods_in_force == ("oauth", "bio")


@pytest.mark.parametrize(
    ("raw", "env", "expected"),
    [
        ({}, {"IMGUR_LINK_METHODS": "bio"}, ("bio",)),
        ({}, {"IMGUR_LINK_METHODS": " Bio , oauth,"}, ("bio", "oauth")),
        ({"imgur": {"link_methods": ["oauth"]}}, {}, ("oauth",)),
        ({"imgur": {"link_methods": ["oauth"]}}, {"IMGUR_LINK_METHODS": "bio"}, ("bio",)),
        ({"imgur": {"link_methods": ["bio", "bio"]}}, {}, ("bio",)),
    ],
)
def test_link_methods_come_from_a_toml_list_or_a_comma_separated_variable(raw, env, expected):
    assert parse_config(raw, env).imgur.link_methods == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["oauth", "password"], "'password' is not one of"),
        ([], "at least one"),
        ("oauth", None),
        (7, "must be a list"),
        ([1], "must be a list"),
    ],
)
def test_bad_link_methods_are_named(value, message):
    if message is None:
        assert parse_config({"imgur": {"link_methods": value}}, {}).imgur.link_methods == ("oauth",)
        return
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config({"imgur": {"link_methods": value}}, {})
    assert str(caught.value).startswith("imgur.link_methods: ")


def test_bio_checks_per_hour_is_bounded():
    assert parse_config({}, {}).imgur.bio_checks_per_hour == 10
    assert parse_config({"imgur": {"bio_checks_per_hour": 3}}, {}).imgur.bio_checks_per_hour == 3
    with pytest.raises(ConfigError, match=r"imgur\.bio_checks_per_hour: must be between 1"):
        parse_config({"imgur": {"bio_checks_per_hour": 0}}, {})


def test_guild_sync_mode_gives_the_guild_id():
    config = parse_config({"discord": {"sync_commands": "guild:123"}}, {})
    assert config.discord.sync_guild_id == 123
    assert parse_config({}, {}).discord.sync_guild_id is None


def test_no_sharding_by_default():
    discord = parse_config({}, {}).discord
    assert (discord.shard_count, discord.shard_ids, discord.sharded) == (0, (), False)
    assert discord.runs_shard_zero


@pytest.mark.parametrize(
    ("raw", "env", "count", "ids"),
    [
        ({"discord": {"shard_count": 4}}, {}, 4, ()),
        ({"discord": {"shard_count": 4, "shard_ids": [3, 1]}}, {}, 4, (1, 3)),
        ({}, {"DISCORD_SHARD_COUNT": "3", "DISCORD_SHARD_IDS": " 2, 0 "}, 3, (0, 2)),
        ({"discord": {"shard_count": 2, "shard_ids": "1"}}, {}, 2, (1,)),
        ({"discord": {"shard_count": 9}}, {"DISCORD_SHARD_COUNT": "3"}, 3, ()),
        ({}, {"DISCORD_SHARD_COUNT": "auto"}, "auto", ()),
        ({"discord": {"shard_count": "Auto"}}, {}, "auto", ()),
    ],
)
def test_shards_from_the_file_and_the_environment(raw, env, count, ids):
    discord = parse_config(raw, env).discord
    assert (discord.shard_count, discord.shard_ids) == (count, ids)
    assert discord.sharded


@pytest.mark.parametrize(
    ("shard_count", "shard_ids", "zero"),
    [(3, [0], True), (3, [1, 2], False), (3, [], True), ("auto", [], True)],
)
def test_only_the_process_with_shard_zero_counts_as_its_runner(shard_count, shard_ids, zero):
    raw = {"discord": {"shard_count": shard_count, "shard_ids": shard_ids}}
    assert parse_config(raw, {}).discord.runs_shard_zero is zero


@pytest.mark.parametrize(
    ("discord", "message"),
    [
        (
            {"shard_count": 2, "shard_ids": [0, 2]},
            "shard_ids: shard 2 is out of range: shards are numbered 0 to 1",
        ),
        ({"shard_count": 3, "shard_ids": "1,1"}, "shard_ids: shard 1 is listed twice"),
        ({"shard_ids": [0]}, "shard_ids: needs discord.shard_count"),
        ({"shard_count": "auto", "shard_ids": [0]}, "shard_ids: needs discord.shard_count"),
        ({"shard_count": 2, "shard_ids": "0,one"}, "shard_ids: 'one' is not a whole number"),
        ({"shard_count": 2, "shard_ids": [-1]}, "shard_ids: shard -1 is out of range"),
        ({"shard_count": 2, "shard_ids": 1}, "shard_ids: must be a list of numbers"),
        ({"shard_count": 2, "shard_ids": [True]}, "shard_ids: True is not a whole number"),
        ({"shard_count": -1}, "shard_count: must be between 0 and 65536, not -1"),
        ({"shard_count": 1.5}, "shard_count: must be a whole number, not 1.5"),
        ({"shard_count": "many"}, "shard_count: must be a whole number, not 'many'"),
        ({"shard_count": 70000}, "shard_count: must be between 0 and 65536"),
        ({"shard_count": "auto", "gateway_url": "ws://127.0.0.1:1"}, 'shard_count: "auto"'),
    ],
)
def test_bad_shard_settings_name_the_key(discord, message):
    with pytest.raises(ConfigError, match="discord." + message.replace("(", r"\(")) as caught:
        parse_config({"discord": discord}, {})
    assert "\n" not in str(caught.value)


def test_a_lease_must_outlast_the_imgur_call_it_covers():
    raw: dict[str, dict[str, float]] = {
        "refresh": {"lease_seconds": 15},
        "imgur": {"request_timeout_seconds": 10},
    }
    with pytest.raises(ConfigError, match=r"refresh.lease_seconds: must be at least twice imgur"):
        parse_config(raw, {})
    raw["imgur"]["request_timeout_seconds"] = 7.5
    assert parse_config(raw, {}).refresh.lease_seconds == 15
