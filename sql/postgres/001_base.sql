-- birdfeed archive, PostgreSQL: the base schema (same shape as SQLite's).
-- One row per Redis stream entry, keyed by the stream id "<ms>-<seq>" kept as
-- two integers (so it sorts as the stream does) and as text. `words` is the
-- searchable text birdfeed derives from the tweet (text, hashtags, mentions,
-- author), already split into lower-case words; the 'simple' text-search
-- configuration indexes them without stemming or stop words, which suits
-- tweets in any language.
CREATE TABLE schema_version (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tweets (
    ms         bigint NOT NULL,
    seq        bigint NOT NULL,
    id         text NOT NULL,
    tweet_id   text NOT NULL,
    author     text,
    lang       text,
    created_at text,
    text       text NOT NULL,
    words      text NOT NULL,
    json       text NOT NULL,
    tsv        tsvector GENERATED ALWAYS AS (to_tsvector('simple', words)) STORED,
    PRIMARY KEY (ms, seq)
);
