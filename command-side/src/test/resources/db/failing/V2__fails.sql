-- Fails: the table it names does not exist.
ALTER TABLE no_such_table ADD COLUMN x int;
