-- A script that works, before one that fails: neither may stay.
CREATE TABLE first_of_two (id int PRIMARY KEY);
