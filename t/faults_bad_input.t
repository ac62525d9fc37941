#!/usr/bin/perl
# Malformed, truncated, oversized and adversarial messages sent from
# several clients in parallel while a fleet runs: each gets its own clear
# error (400; 413 past the size or omadm_xml_limits; 415; 405), the
# workers stay up, and the simulator's good devices all complete and
# omadm-sim --verify finds every command done exactly once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::SSL;
use Time::HiRes qw(sleep time);
use OmadmTest;
use OmadmTest::Device;

plan skip_all => "$OmadmTest::SIM not built"
    unless -x $OmadmTest::SIM || $ENV{FAULTS_NO_SIM};

my ($N, $M, $K) = (30, 8, 3);
my $t = OmadmTest->new->start;
my $dev = OmadmTest::Device->new(url => $t->device_url, ca => $t->ca_file,
                                  id => 'IMEI:bad', user => 'u', pass => 'p');
my $good = $dev->package1(cred => undef);
my $syncml = 'application/vnd.syncml.dm+xml';

# [ name, expected status, method, content type, body ]
my @bad = (
    [ 'not XML',              400, POST => $syncml, "\x00\x01garbage\xff" x 20 ],
    [ 'empty body',           400, POST => $syncml, '' ],
    [ 'unclosed elements',    400, POST => $syncml, '<SyncML><SyncHdr><VerDTD>1.2' ],
    [ 'truncated message',    400, POST => $syncml, substr($good, 0, length($good) / 2) ],
    [ 'not SyncML',           400, POST => $syncml, '<?xml version="1.0"?><html><body/></html>' ],
    [ 'invalid UTF-8',        400, POST => $syncml, $good =~ s/Example Corp/Ex\xc3\x28mple/r ],
    [ 'entity expansion',     400, POST => $syncml,
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
      . '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><SyncML>&b;</SyncML>' ],
    [ 'external entity',      400, POST => $syncml,
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
      . '<SyncML>&e;</SyncML>' ],
    [ 'nesting 5000 deep',    413, POST => $syncml,
      '<SyncML>' . ('<a>' x 5000) . ('</a>' x 5000) . '</SyncML>' ],
    [ '30000 elements',       413, POST => $syncml,
      '<SyncML>' . ('<a/>' x 30000) . '</SyncML>' ],
    [ 'device id of 4 KiB',   400, POST => $syncml,
      $good =~ s{<LocURI>IMEI:bad</LocURI>}{'<LocURI>' . ('I' x 4096) . '</LocURI>'}er ],
    [ 'oversized (2 MiB)',    413, POST => $syncml, 'x' x (2 * 1024 * 1024) ],
    [ 'text/xml',             415, POST => 'text/xml', $good ],
    [ 'no content type',      415, POST => undef, $good ],
    [ 'GET',                  405, GET  => undef, undef ],
    [ 'PUT',                  405, PUT  => $syncml, $good ],
);

sub send_bad {
    my ($b) = @_;
    my (undef, undef, $method, $type, $body) = @$b;
    my $res = $t->https->request($method, $t->device_url, {
        headers => { defined $type ? ('Content-Type' => $type) : () },
        defined $body ? (content => $body) : () });
    return $res->{status};
}

# a body cut off at the HTTP level: Content-Length promises more, the
# client goes away
sub send_cut_off {
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $t->https_port,
                                 SSL_verify_mode => SSL_VERIFY_NONE) or return 'connect';
    print $s "POST /omadm HTTP/1.1\r\nHost: localhost\r\nContent-Type: $syncml\r\n"
        . "Content-Length: " . (length($good) + 1000) . "\r\n\r\n"
        . substr($good, 0, 100);
    sleep 0.2;
    close $s;
    return 'cut';
}

my $sim = -x $OmadmTest::SIM
    ? $t->start_sim(devices => $N, sessions => $M, verify => $K, concurrency => $N,
                    retries => 50, retry_cap_ms => 300, seed => 14, prefix => 'good')
    : undef;

# until the fleet is under way
my $deadline = time + 30;
sleep 0.05 while $sim && time < $deadline
                  && $t->backend_log !~ m{POST /contract/exchange};
ok(!$sim || $t->sim_running($sim), 'the good run is under way');

# 4 clients, each sending every bad message, round after round, for as long
# as the good run lasts (at least 2 rounds)
my @got = $t->parallel(4, sub {
    my @s;
    for my $round (1 .. 100) {
        last if $round > 2 && (!$sim || $t->sim_done($sim));
        push @s, [ map { send_bad($_) } @bad ];
        send_cut_off();
    }
    return join ';', map { join ',', @$_ } @s;
});
my @rounds = map { [ split /,/ ] } map { split /;/ } @got;
for my $i (0 .. $#bad) {
    my ($name, $want) = @{ $bad[$i] };
    my @codes = map { $_->[$i] } @rounds;
    is_deeply([ sort { $a <=> $b } @codes ], [ ($want) x @rounds ],
              "$name: all " . @rounds . " answered $want") or diag("@codes");
}

my $probe = $t->https->request('GET', $t->device_url);
is($probe->{status}, 405, 'the server still answers after the bad input');

if ($sim) {
    my $r = $t->wait_sim($sim, 150);
    $t->check_sim($r, devices => $N, sessions => $M, verify => $K);
    is(OmadmTest::sim_status($r, 400) + OmadmTest::sim_status($r, 413), 0,
       'no good device was refused');
}
$t->check_error_log;
done_testing;
