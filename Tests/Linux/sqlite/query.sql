-- The second process: the file written by create.sql, read back; a rolled-back change leaves no trace.
select 'items', count(*), printf('%.2f', sum(price)) from items;
select name, sum(quantity) from items join orders on orders.item = items.id group by name order by name;
begin;
delete from orders;
select 'inside the transaction', count(*) from orders;
rollback;
select 'after rollback', count(*) from orders;
update items set price = price * 2 where name = 'fig';
select name, printf('%.3f', price) from items order by price desc limit 2;
select group_concat(name, '+') from (select name from items order by id);
with recursive fib(a, b, n) as (select 0, 1, 0 union all select b, a + b, n + 1 from fib where n < 40) select max(a) from fib;
select date('2024-01-31', '+1 month'), json_object('answer', 42);
pragma integrity_check;
