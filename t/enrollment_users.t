#!/usr/bin/perl
# The operator's enrollment users (POST/GET/DELETE /api/v1/enrollment-users):
# created once (409 again, in any case of the name), refused with 400 for
# a bad body, listed without any password, deleted (and then unable to
# sign in), behind the operator token; passwords stored only as a salted
# scrypt hash.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use HTTP::Tiny;
use OmadmTest;
use OmadmTest::Enrollment;

my $t = OmadmTest::Enrollment::server();
my $e = OmadmTest::Enrollment->new($t);
my $PASSWORD = 'frank-has-a-long-password';

my ($st, $b) = $t->api(POST => '/enrollment-users',
                       { username => 'Frank@Example.COM', password => $PASSWORD });
is($st, 201, 'POST: 201');
is($b->{username}, 'frank@example.com', '... the name folded to lower case');
like($b->{created_at} // '', qr/^\d{4}-\d\d-\d\dT/, '... created_at');
ok(!exists $b->{password} && !grep({ /scrypt/ } values %$b), '... no password, no hash');

($st, $b) = $t->api(POST => '/enrollment-users',
                    { username => 'FRANK@example.com', password => 'other' });
is($st, 409, 'the same user again, in another case: 409');
is($b->{error}, 'enrollment user already exists', '... saying so');

my @bad = (
    [ { username => 'x' }, qr/"password" must be a non-empty string/, 'no password' ],
    [ { username => '', password => 'p' }, qr/"username" must be a non-empty string/, 'an empty name' ],
    [ { username => 'x', password => 7 }, qr/"password" must be a non-empty string/, 'a number for a password' ],
    [ { username => 'x', password => 'p', admin => JSON::PP::true }, qr/unknown field "admin"/, 'an unknown field' ],
    [ { username => "x\ny", password => 'p' }, qr/without control characters/, 'a control character' ],
    [ { username => 'x' x 257, password => 'p' }, qr/at most 256 bytes/, 'a name too long' ],
    [ { username => 'x', password => 'p' x 1025 }, qr/at most 1024 bytes/, 'a password too long' ],
    [ { username => 'x', password => ' p' }, qr/must not begin or end with white space/, 'a password with leading space' ],
);
for my $c (@bad) {
    ($st, $b) = $t->api(POST => '/enrollment-users', $c->[0]);
    is($st, 400, "$c->[2]: 400");
    like(ref $b ? $b->{error} : '', $c->[1], '... saying what is wrong');
}

$t->api(POST => '/enrollment-users', { username => 'grace@example.com', password => 'g-password' });
($st, $b) = $t->api(GET => '/enrollment-users');
is($st, 200, 'GET: 200');
is_deeply([ map { $_->{username} } @$b ], [ 'frank@example.com', 'grace@example.com' ],
          '... every user, oldest first');
is_deeply([ sort keys %{ $b->[0] } ], [ 'created_at', 'username' ], '... name and creation time only');

my $r = HTTP::Tiny->new->get($t->api_url('/enrollment-users'));
is($r->{status}, 401, 'without the operator token: 401');

# stored as a slow salted hash, never in clear (the WAL holds the newest pages)
# (on PostgreSQL: the whole table as psql shows it)
my $db = OmadmTest::Postgres::enabled()
    ? $t->postgres->psql('SELECT * FROM enrollment_users')
    : join '', map { OmadmTest::_slurp($t->dir . "/omadm.db$_") } '', '-wal';
ok(index($db, $PASSWORD) < 0, 'the password is nowhere in the database');
my %salts = map { $_ => 1 }
    $db =~ /\$scrypt\$ln=14,r=8,p=1\$([A-Za-z0-9+\/=]{24})\$[A-Za-z0-9+\/=]{44}/g;
is(scalar keys %salts, 2, 'an scrypt hash for each user, each with its own salt');

is($e->get_policies(user => 'frank@example.com', password => $PASSWORD)->{res}{status}, 200,
   'the user signs in');
($st) = $t->api(DELETE => '/enrollment-users/FRANK%40example.com');
is($st, 204, 'DELETE: 204');
($st) = $t->api(DELETE => '/enrollment-users/frank%40example.com');
is($st, 404, '... and 404 once gone');
like(OmadmTest::Enrollment::fault_of($e->get_policies(user => 'frank@example.com',
                                                      password => $PASSWORD)),
     qr/s:Authentication: wrong user name or password/, 'a deleted user cannot sign in');

$t->check_error_log;
done_testing;
