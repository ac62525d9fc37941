#!/usr/bin/perl
# GET /api/v1/devices?limit=&cursor=&q=&sort=: pages that together are
# every device exactly once in each sort order, search, bad parameters,
# the plain array for callers without parameters, and the order of growth:
# a page (the first, one deep in the keyset, sorted by last_seen, a search
# with many matches) takes about as long at 100,000 devices as at 1,000,
# because it is read from an index (the query plans are checked too).
# Devices are inserted with sqlite3 into the running backend's database.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use OmadmTest;

OmadmTest::Postgres::sqlite_only("inserts with the sqlite3 shell");

plan skip_all => 'sqlite3 not installed (make deps installs it)'
    unless system('sqlite3 -version >/dev/null 2>&1') == 0;

$ENV{OMADM_TEST_TIMEOUT} ||= 300;
my $t = OmadmTest->new;
$t->start_backend;
my $db = $t->dir . '/omadm.db';

# $n devices dev-000001.., created a second apart, every third never seen,
# the others seen at times in another order than their ids.
sub fill {
    my ($from, $to) = @_;
    my $sql = <<"EOF_SQL";
.timeout 10000
WITH RECURSIVE n(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM n WHERE i < $to)
INSERT INTO devices (device_id, username, password_inner, devinfo, last_seen, created_at)
SELECT printf('dev-%06d', i), printf('user%d', i), 'x',
       json_object('./DevInfo/Man', CASE i % 2 WHEN 0 THEN 'Acme' ELSE 'Globex' END,
                   './DevInfo/Mod', printf('M%d', i % 97)),
       CASE WHEN i % 3 = 0 THEN NULL
            ELSE strftime('%Y-%m-%dT%H:%M:%S.000Z', 1700000000 + (i * 7919) % 1000003, 'unixepoch') END,
       strftime('%Y-%m-%dT%H:%M:%S.000Z', 1600000000 + i, 'unixepoch')
FROM n;
EOF_SQL
    open my $fh, '|-', 'sqlite3', $db or die "sqlite3: $!\n";
    print $fh $sql;
    close $fh or die "sqlite3 failed\n";
}

sub page {
    my ($query) = @_;
    my ($st, $body) = $t->api(GET => "/devices?$query");
    die "GET /devices?$query: $st\n" unless $st == 200;
    return $body;
}

# All pages of a listing: the ids in order.
sub walk {
    my ($query) = @_;
    my (@ids, $cursor);
    for (1 .. 1000) {
        my $p = page($query . ($cursor ? "&cursor=$cursor" : ''));
        push @ids, map { $_->{device_id} } @{ $p->{devices} };
        $cursor = $p->{next_cursor} or last;
    }
    return @ids;
}

fill(1, 1000);
my ($st, $all) = $t->api(GET => '/devices');
is $st, 200, 'GET /devices without parameters';
is ref $all, 'ARRAY', 'is still the plain array';
is scalar @$all, 1000, 'of every device';

my %by = map { $_->{device_id} => $_ } @$all;
my @ids = sort keys %by;
is_deeply [walk('limit=37')], \@ids, 'pages of 37 by device_id: every device once, in order';
is_deeply [walk('limit=50&sort=-device_id')], [reverse @ids], 'descending';
my @by_created = sort { $by{$a}{created_at} cmp $by{$b}{created_at} || $a cmp $b } @ids;
is_deeply [walk('limit=64&sort=created_at')], \@by_created, 'by created_at';
my $seen = sub { $by{$_[0]}{last_seen} // '' };
my @by_seen = sort { $seen->($b) cmp $seen->($a) || $b cmp $a } @ids;
is_deeply [walk('limit=100&sort=-last_seen')], \@by_seen, 'by -last_seen: the most recent first, never seen last';

my @acme7 = grep { $by{$_}{devinfo}{'./DevInfo/Man'} eq 'Acme' && $by{$_}{devinfo}{'./DevInfo/Mod'} eq 'M7' } @ids;
is_deeply [walk('limit=5&q=ACME')], [grep { $by{$_}{devinfo}{'./DevInfo/Man'} eq 'Acme' } @ids],
    'q: manufacturer, case-insensitive, paged';
is_deeply [walk('q=dev-000537')], ['dev-000537'], 'q: one device id among 1,000';
is_deeply [walk('q=user42&limit=500')], [grep { $by{$_}{username} =~ /user42/ } @ids], 'q: username substring';
is_deeply page('q=nothing-like-this')->{devices}, [], 'q without match: an empty page';
is page('q=nothing-like-this')->{next_cursor}, undef, '... and no cursor';
is scalar @{ page('limit=500')->{devices} }, 500, 'limit 500';

for my $bad ('limit=0', 'limit=501', 'limit=x', 'sort=model', 'sort=', 'cursor=zz', 'cursor=616263') {
    my ($s, $e) = $t->api(GET => "/devices?$bad");
    is $s, 400, "$bad: 400";
    like $e->{error}, qr/"(limit|sort|cursor)"/, "$bad: the error names the parameter";
}

# ---- order of growth ----------------------------------------------------------
# the median of 15 requests, in seconds
sub timed {
    my ($query) = @_;
    page($query) for 1 .. 3;    # warm
    my @t;
    for (1 .. 15) {
        my $t0 = time;
        page($query);
        push @t, time - $t0;
    }
    @t = sort { $a <=> $b } @t;
    return $t[7];
}

sub deep_cursor {
    my ($query, $pages) = @_;
    my $cursor;
    for (1 .. $pages) { $cursor = page($query . ($cursor ? "&cursor=$cursor" : ''))->{next_cursor} }
    return $cursor;
}

my @cases = (
    ['first page', 'limit=50'],
    ['deep page by id', sub { 'limit=50&cursor=' . deep_cursor('limit=50', 10) }],
    ['by -last_seen, deep', sub { 'limit=50&sort=-last_seen&cursor=' . deep_cursor('limit=50&sort=-last_seen', 10) }],
    ['by created_at', 'limit=50&sort=created_at'],
    ['search, many matches', 'limit=50&q=acme'],
);
my %small;
for my $c (@cases) {
    my $q = ref $c->[1] ? $c->[1]->() : $c->[1];
    $small{ $c->[0] } = timed($q);
}
fill(1001, 100000);
is scalar @{ page('limit=1&q=dev-100000')->{devices} }, 1, '100,000 devices';
for my $c (@cases) {
    my $q = ref $c->[1] ? $c->[1]->() : $c->[1];
    my $big = timed($q);
    my $ratio = $big / ($small{ $c->[0] } || 1e-6);
    # linear work would be ~100 times slower; allow noise of a shared machine
    cmp_ok $ratio, '<', 8, sprintf '%s: %.2f ms at 1,000, %.2f ms at 100,000 devices (x%.1f)',
        $c->[0], $small{ $c->[0] } * 1000, $big * 1000, $ratio;
}

# the plans: an index, no sort of the whole table
for my $p (["SELECT device_id FROM devices WHERE (COALESCE(last_seen, ''), device_id) < ('x', 'y')"
            . " ORDER BY COALESCE(last_seen, '') DESC, device_id DESC LIMIT 51", 'devices_by_last_seen'],
           ["SELECT device_id FROM devices WHERE (created_at, device_id) > ('x', 'y')"
            . " ORDER BY created_at, device_id LIMIT 51", 'devices_by_created'],
           ["SELECT device_id FROM devices WHERE device_id > 'x' ORDER BY device_id LIMIT 51", 'sqlite_autoindex_devices_1']) {
    my $plan = qx{sqlite3 $db "EXPLAIN QUERY PLAN $p->[0]"};
    like $plan, qr/\Q$p->[1]\E/, "plan uses $p->[1]";
    unlike $plan, qr/TEMP B-TREE/, '... and sorts nothing';
}
done_testing;
