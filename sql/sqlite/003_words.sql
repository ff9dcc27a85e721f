-- birdfeed archive, SQLite: `words` holds the tweet's tokens as birdfeed's
-- own tokeniser cuts them for live filters (lib/token.h): `foo_bar` whole,
-- `#alpha` beside `alpha`, `café` beside `cafe`, emoji, CJK characters and
-- pairs, one space between tokens. The full-text index must keep them as
-- they are: the `ascii` tokenizer splits only at ASCII characters that are
-- not letters, digits or the token characters '#', '@' and '_' (so only at
-- the spaces birdfeed puts there) and changes nothing else (the tokens are
-- already folded). Before this version, words were letters and digits only
-- and unicode61 split them again.
DROP TRIGGER tweets_fts_insert;
DROP TRIGGER tweets_fts_delete;
DROP TABLE tweets_fts;
-- @recompute-words: birdfeed sets `words` of every row anew here, with the tokeniser of this version.
CREATE VIRTUAL TABLE tweets_fts USING fts5(
    words,
    content = 'tweets',
    content_rowid = 'rid',
    tokenize = "ascii tokenchars '#@_'"
);

CREATE TRIGGER tweets_fts_insert AFTER INSERT ON tweets BEGIN
    INSERT INTO tweets_fts (rowid, words) VALUES (new.rid, new.words);
END;

CREATE TRIGGER tweets_fts_delete AFTER DELETE ON tweets BEGIN
    INSERT INTO tweets_fts (tweets_fts, rowid, words) VALUES ('delete', old.rid, old.words);
END;

INSERT INTO tweets_fts (tweets_fts) VALUES ('rebuild');
