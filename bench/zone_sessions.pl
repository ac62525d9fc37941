#!/usr/bin/perl
# How many live sessions an omadm_session_zone holds (bench/README.md):
# one device opens ZONE_SESSIONS sessions one after the other, each
# authenticated by MD5 with a Get in its 212 (so it goes on and keeps its
# answer), in a zone of ZONE_SIZE; then each session's login is sent again,
# byte for byte, and a session still in the zone answers it with its kept
# answer (the same bytes, a token nobody else has), newest first.  Prints the sessions
# kept and the zone's bytes per session.  Real nginx and backend (the test
# harness, t/lib), on loopback.
#
#   perl bench/zone_sessions.pl     (ZONE_SIZE 1m, ZONE_SESSIONS 3000;
#                                    OMADM_MODULE: another module's .so)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use OmadmTest;
use OmadmTest::Device;

my $size = $ENV{ZONE_SIZE} // '1m';
my $n = $ENV{ZONE_SESSIONS} // 3000;
my ($num, $unit) = $size =~ /^(\d+)([km]?)$/i or die "ZONE_SIZE: 512k, 1m, ...\n";
my $bytes = $num * { '' => 1, k => 1024, m => 1024 * 1024 }->{lc $unit};

$OmadmTest::MODULE = $ENV{OMADM_MODULE} if $ENV{OMADM_MODULE};   # another build
$ENV{OMADM_TEST_TIMEOUT} ||= 1800;    # the harness's alarm: a long run
my $t = OmadmTest->new(session_zone => "zone=omadm:$size ttl=30m")->start;
my $id = 'IMEI:350000000000777';
my $d = $t->device(id => $id, user => 'zone', pass => 'pz', session => 0);

# One Get, never answered: the backend hands it out again at every
# session start, so every session's answer (and record) is the same size.
my @logins;
$t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$d->post($d->package1(cred => undef));     # the first nonce
for my $i (1 .. $n) {
    $d->new_session("z$i");
    my $res = $d->post($d->package1);
    my $st = OmadmTest::Device::hdr_status($res->{syncml}) // {};
    die "session $i: no 212 (HTTP $res->{status})\n" unless ($st->{Data} // '') eq '212';
    push @logins, [ $d->{last_request}, $res->{content} ];
}

# Newest first, up to the first one evicted (the zone evicts the least
# recently used, so all older ones are gone too): a resend that misses is
# a login again, whose failure count may evict sessions not probed yet.
my ($kept, %other) = (0);
for my $l (reverse @logins) {
    my ($req, $answer) = @$l;
    my $res = $d->{http}->post($req->{url}, {
        headers => { 'Content-Type' => 'application/vnd.syncml.dm+xml' },
        content => $req->{xml} });
    if ($res->{status} == 200 && $res->{content} eq $answer) {
        $kept++;
        next;
    }
    my ($code) = $res->{content} =~ m{<Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data>}s;
    $other{$code // "HTTP $res->{status}"}++;
    last;
}
print "not kept, answered: ", join(', ', map { "$_ x$other{$_}" } sort keys %other),
      "\n" if %other;
printf "zone %s: %d of %d sessions kept, %.0f zone bytes per session, "
       . "%.0f sessions per 10 MB\n", $size, $kept, $n,
       $kept ? $bytes / $kept : 0, $kept ? $kept * 10 * 1024 * 1024 / $bytes : 0;
if (open my $log, '<', $t->dir . '/error.log') {
    my @full = grep { /omadm/ && /\[(warn|error)\]/ } <$log>;
    print "error log: ", scalar(@full), " omadm warnings/errors\n", @full[0 .. ($#full < 5 ? $#full : 5)];
}
$t->stop;
