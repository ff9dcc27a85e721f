-- birdfeed archive, PostgreSQL: `words` holds the tweet's tokens as
-- birdfeed's own tokeniser cuts them for live filters (lib/token.h):
-- `foo_bar` whole, `#alpha` beside `alpha`, `café` beside `cafe`, emoji, CJK
-- characters and pairs, one space between tokens. The tsvector takes them
-- as lexemes as they are (array_to_tsvector: no parser, no stemming, no
-- stop words); searches ask with tsquery lexemes cut the same way. Before
-- this version, to_tsvector('simple', …) cut the words again.
DROP INDEX tweets_tsv;
ALTER TABLE tweets DROP COLUMN tsv;
-- @recompute-words: birdfeed sets `words` of every row anew here, with the tokeniser of this version.
ALTER TABLE tweets ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (array_to_tsvector(string_to_array(words, ' '))) STORED;
CREATE INDEX tweets_tsv ON tweets USING gin (tsv);
