"""Seeds a migrated Agentry store with N published Catalog entries for bench/run-catalog.

Usage: python3 seed_catalog.py sqlite PATH N VOCABULARY_OUT
       python3 seed_catalog.py postgres URL N VOCABULARY_OUT
Entries are deterministic (seeded random): titles, descriptions and skills drawn from a
vocabulary of 3,000 made-up words, 20 departments, 30 tools, 50 tags. The vocabulary is written
to VOCABULARY_OUT for the benchmark's queries. SQLite rows go through migration 15's revision
triggers, so each entry takes the next Catalog revision (1 to N); PostgreSQL rows are copied with
triggers off and keep revision 0. Either way the first load reads them all; there is no full-text
index to fill (the Catalog is searched in memory).
"""
import csv
import io
import json
import random
import sqlite3
import subprocess
import sys

backend, target, count, vocabulary_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rng = random.Random(20261128)
syllables = ["ka", "lo", "mi", "ter", "van", "sol", "dri", "pen", "qua", "rus", "bel", "tor", "nex", "fi", "gra"]
vocabulary = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(4000)})[:3000]
with open(vocabulary_out, "w") as out:
    out.write("\n".join(vocabulary) + "\n")


def words(n):
    return " ".join(rng.choice(vocabulary) for _ in range(n))


user = ("usr_bench", "bench@example.com", "Bench", None, 0, 0, None)
agents, entries = [], []
for i in range(count):
    agent_id, name = f"agn_{i:07d}", f"agent-{i:07d}"
    tools = sorted({f"tool-{rng.randrange(30)}" for _ in range(rng.randint(0, 3))})
    tags = sorted({f"tag-{rng.randrange(50)}" for _ in range(rng.randint(1, 3))})
    skills = [f"{words(2)}: {words(8)}" for _ in range(rng.randint(1, 3))]
    agents.append((agent_id, name, "usr_bench", None, "active", "1.0.0", 0, 0))
    entries.append((agent_id, name, words(3).title(), words(14), f"Department {rng.randrange(20)}", json.dumps(tags),
                    json.dumps(skills), json.dumps(tools), json.dumps(["sim/openai-small"]), "usr_bench", None,
                    "1.0.0", "declarative", "internal", "active", 0))

if backend == "sqlite":
    db = sqlite3.connect(target)
    with db:
        db.execute("INSERT INTO users (id, email, display_name, team_id, created_at, updated_at, disabled_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", user)
        db.executemany("INSERT INTO agents (id, name, owner_id, team_id, state, published_version, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", agents)
        db.executemany("INSERT INTO catalog_entries (agent_id, name, title, description, department, tags, skills, "
                       "tools, models, owner_id, team_id, version, kind, data_classification, state, published_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    db.execute("ANALYZE")
    db.close()
else:
    def copy(table, columns, rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(["\\N" if value is None else value for value in row])
        # Triggers off for the bulk load: the revision trigger would update its one row 100,000
        # times in one transaction. The rows keep revision 0, which the first load reads.
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target, "-c", "SET session_replication_role = replica",
                        "-c", f"\\copy {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"],
                       input=buffer.getvalue(), text=True, check=True)
    copy("users", "id, email, display_name, team_id, created_at, updated_at, disabled_at", [user])
    copy("agents", "id, name, owner_id, team_id, state, published_version, created_at, updated_at", agents)
    copy("catalog_entries", "agent_id, name, title, description, department, tags, skills, tools, models, owner_id, "
         "team_id, version, kind, data_classification, state, published_at", entries)
    subprocess.run(["psql", "-q", target, "-c", "VACUUM ANALYZE"], check=True)
