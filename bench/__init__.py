"""Benchmarks: scripts that measure the bot against local fakes and print figures.

``python -m bench`` runs every script (``bench/__main__.py``); each also runs alone as
``python -m bench.<script> [--quick]``. The scripts: ``clients``, ``commands_load``, ``sweep``,
``footprint``, ``credits``, ``shards_load``, ``slow_clients``, ``soak``, ``sweep_postgres``;
the processes they start: ``bot_process`` (the bot alone), ``imgur_server`` (a fake Imgur).

What they share, a module an idea:

- ``report``: a script's figures, targets and notes, printed and passed on as a JSON line;
- ``figures``: percentiles, and durations and sizes as the reports print them;
- ``cli``: the command line every script shares (``--quick``, ``--json``);
- ``procfs``: CPU time and memory of a process, the machine and its load, from ``/proc``;
- ``children``: pieces in processes of their own, and the one-JSON-line protocol between them;
- ``polling``: waiting for a condition until a deadline;
- ``identities``: the fixed client credentials, member ids and tokens of the fakes;
- ``seeding``: migrated SQLite databases filled with linked members in bulk;
- ``postgres``: a PostgreSQL schema of a run's own, dropped after;
- ``bot_config``: the raw configuration of a bot pointed at the fakes;
- ``timed_discord``: the test suite's fake Discord, timing each interaction's answer;
- ``messages``: what a member reads off a fake Discord message (buttons, footer, codes).
"""
