-- The order summary read model (PostgreSQL).
CREATE TABLE order_summary (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    lines BIGINT NOT NULL,
    total_cents BIGINT NOT NULL,
    carrier TEXT,
    events_applied BIGINT NOT NULL
);

CREATE TABLE order_counts (
    status TEXT PRIMARY KEY,
    orders BIGINT NOT NULL
);
