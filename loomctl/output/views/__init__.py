"""One module per domain: plain rows and rich tables for what a command shows.

checks (the catalogue), config, cost, deploy, dns, logs, metrics, peers, query, results (query rows), runbooks
(the list), sandbox, status, storage. Every rich import stays inside a function; commands parse, call, render.
"""
