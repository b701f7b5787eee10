-- Run by the sqlite boot test (Aegis.Tests/Boot/LinuxDynamicTests.cs) on Aegis and on the host:
-- the first process creates the database file; the second (query.sql) reads it back.
create table items(id integer primary key, name text not null, price real);
create table orders(item integer references items(id), quantity integer);
begin;
insert into items(name, price) values ('apple', 0.5), ('pear', 0.75), ('fig', 2.25), ('plum', 1.0);
insert into orders values (1, 3), (3, 1), (1, 2), (4, 10);
commit;
create index orders_item on orders(item);
with recursive counter(n) as (select 1 union all select n + 1 from counter where n < 500)
insert into orders select 2, n % 7 from counter;
select 'created', count(*) from orders;
