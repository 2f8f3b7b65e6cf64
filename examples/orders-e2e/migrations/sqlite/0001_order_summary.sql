-- The order summary read model.
CREATE TABLE order_summary (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    lines INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    carrier TEXT,
    events_applied INTEGER NOT NULL
);

CREATE TABLE order_counts (
    status TEXT PRIMARY KEY,
    orders INTEGER NOT NULL
);
