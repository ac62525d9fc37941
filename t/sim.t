#!/usr/bin/perl
# build/omadm-sim against real nginx and omadm-backend: a fleet of MD5
# devices over verified HTTPS completes exactly the sessions asked for,
# answers every queued command as its outcome function says (checked by
# --verify and, independently, through the operator API), Basic and a
# --devices-file work, HMAC (x-syncml-hmac, syncml:auth-MAC) against an
# hmac-only location, the same seed repeats the same outcomes, and a
# wrong CA, a wrong password or a usage error fail with the documented
# exit status and error kind.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use OmadmTest;

my $SIM = "$OmadmTest::ROOT/build/omadm-sim";
plan skip_all => "$SIM not built (run make)" unless -x $SIM;

my $t = OmadmTest->new(locations => {
    '/omadm' => {},
    '/hmac'  => { omadm_auth => 'hmac', omadm_challenge => 'hmac' },
})->start;
my $dir = $t->dir;
our $URL = $t->device_url;    # local()ised for runs against another location

# Runs the simulator against this server; returns (exit status, decoded
# --json report or undef, stderr text).
sub sim {
    my (@args) = @_;
    my @cmd = ($SIM, '--url', $URL, '--ca', $t->ca_file,
               '--api', $t->api_url, '--token-file', "$dir/admin.token",
               '--quiet', '--json', @args);
    my $err = "$dir/sim-stderr.txt";
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>', $err or POSIX::_exit(127);
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $rc = $? >> 8;
    my $report = eval { decode_json($out) };
    return ($rc, $report, OmadmTest::_slurp($err));
}

sub commands_of {
    my ($id) = @_;
    my ($st, $list) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id)
                                     . '/commands');
    return $st == 200 ? @$list : ();
}

# ---- 20 devices x 2 sessions, MD5, every outcome of the mix, --verify 3
my @mix = ('--mix', 'ok=55,notfound=20,fail=15,slow=10', '--slow-ms', '150');
my ($rc, $r, $err) = sim('--devices', 20, '--sessions', 2, '--verify', 3,
                         '--seed', 5, '--prefix', 'fleet', @mix);
is($rc, 0, 'md5 fleet: exit 0') or diag($err);
is_deeply([ sort keys %$r ],
          [ sort qw(devices sessions_completed sessions_failed session_retries
                    messages elapsed_s sessions_per_second session_ms
                    message_ms http_status errors verify) ],
          'the --json report has the documented keys');
is($r->{devices}, 20, '20 devices');
is($r->{sessions_completed}, 40, '40 sessions completed');
is($r->{sessions_failed}, 0, 'none failed');
is($r->{session_retries}, 0, 'no retries');
# first session: 407 challenge, 212 with the 3 commands, the answers;
# second session: the NextNonce of the 212 authenticates at once
is($r->{messages}, 20 * 4, 'messages: 3 in the first session, 1 in the second');
is_deeply($r->{http_status}, { 200 => 80 }, 'every HTTP answer 200');
is_deeply($r->{errors}, {}, 'no errors');
is_deeply($r->{verify}, { commands => 60, correct => 60, wrong => 0,
                          missing => 0, duplicated => 0 },
          'verify: 60 commands, each correct exactly once');
ok($r->{session_ms}{p50} > 0 && $r->{session_ms}{max} >= $r->{session_ms}{p99},
   'session latency percentiles are ordered');
ok($r->{session_ms}{max} >= 150, 'slow answers took --slow-ms');

# the backend agrees, independently of the simulator's own check
my (%seen, @bad, %outcome);
for my $i (0 .. 19) {
    my $id = "fleet5-$i";
    my $dev = $t->get_device($id);
    push @bad, "$id devinfo" unless ($dev->{devinfo}{'./DevInfo/Man'} // '') eq 'omadm-sim'
        && ($dev->{devinfo}{'./DevInfo/DevId'} // '') eq $id && $dev->{last_seen};
    for my $c (commands_of($id)) {
        $seen{ $c->{state} }++;
        my $n = @{ $c->{results} };
        my $ok = $c->{status} && ($c->{state} eq 'done') == ($c->{status} == 200)
            && $c->{status} =~ /^(200|404|500)$/
            && $n == ($c->{verb} eq 'Get' && $c->{status} == 200 ? 1 : 0)
            && (!$n || $c->{results}[0]{data} =~ /^v-[0-9a-f]{16}$/);
        push @bad, "$id $c->{target}: $c->{state} $c->{status} ($n results)" unless $ok;
        $outcome{"$id $c->{target}"} = join ' ', $c->{status},
            map { $_->{data} } @{ $c->{results} };
    }
}
is_deeply(\@bad, [], 'operator API: devinfo recorded, states, statuses and results consistent');
is(($seen{done} // 0) + ($seen{failed} // 0), 60, 'operator API: 60 commands answered');
ok($seen{done} && $seen{failed}, "the mix gave both outcomes (@{[ %seen ]})");

# ---- the same seed repeats the same outcomes (ids exist: 409 is fine)
($rc, $r, $err) = sim('--devices', 20, '--verify', 3, '--seed', 5,
                      '--prefix', 'fleet', @mix);
is($rc, 0, 'same seed again: exit 0') or diag($err);
is($r->{verify}{correct}, 60, 'same seed again: verify correct');
my %again;
for my $i (0 .. 19) {
    my @c = commands_of("fleet5-$i");
    # the second run's commands are the last three of each device
    for my $c (@c[3 .. $#c]) {
        $again{"fleet5-$i $c->{target}"} = join ' ', $c->{status},
            map { $_->{data} } @{ $c->{results} };
    }
}
is_deeply(\%again, \%outcome, 'same seed: every command got the same status and data');

# ---- Basic authentication: no challenge round trip
($rc, $r, $err) = sim('--devices', 5, '--sessions', 2, '--auth', 'basic',
                      '--verify', 2, '--seed', 6, '--prefix', 'basic');
is($rc, 0, 'basic: exit 0') or diag($err);
is($r->{sessions_completed}, 10, 'basic: 10 sessions');
is($r->{messages}, 5 * 3, 'basic: 2 messages then 1, no challenge');
is($r->{verify}{correct}, 10, 'basic: verify correct');

# ---- HMAC: every message signed, no Cred; the location accepts only that
{
    local $URL = $t->device_url('/hmac');
    ($rc, $r, $err) = sim('--devices', 10, '--sessions', 2, '--auth', 'hmac',
                          '--verify', 3, '--seed', 12, '--prefix', 'hmac', @mix);
    is($rc, 0, 'hmac: exit 0') or diag($err);
    is($r->{sessions_completed}, 20, 'hmac: 20 sessions completed');
    is($r->{sessions_failed}, 0, 'hmac: none failed');
    is($r->{session_retries}, 0, 'hmac: no retries');
    # unsigned package 1 -> 407 auth-MAC, signed -> 212 (its NextNonce signs
    # the answers), then the next session starts signed with it: 212 at once
    is($r->{messages}, 10 * 4, 'hmac: 3 messages then 1, like md5');
    is_deeply($r->{http_status}, { 200 => 40 }, 'hmac: every HTTP answer 200');
    is_deeply($r->{errors}, {}, 'hmac: no errors');
    is_deeply($r->{verify}, { commands => 30, correct => 30, wrong => 0,
                              missing => 0, duplicated => 0 },
              'hmac: verify 30 commands, each correct exactly once');

    # the MD5 Cred is not accepted there: the challenge is never met
    ($rc, $r, $err) = sim('--devices', 1, '--seed', 12, '--prefix', 'hmac');
    is($rc, 1, 'md5 on the hmac-only location: exit 1') or diag($err);
    ok(grep(/^auth_40[17]$/, keys %{ $r->{errors} }),
       'md5 on the hmac-only location: an auth error') or diag(explain($r->{errors}));
}
# where hmac is not accepted the header is ignored: never authenticated
($rc, $r, $err) = sim('--devices', 1, '--auth', 'hmac', '--seed', 12,
                      '--prefix', 'hmac');
is($rc, 1, 'hmac on an md5-only location: exit 1') or diag($err);
ok(grep(/^auth_40[17]$/, keys %{ $r->{errors} }),
   'hmac on an md5-only location: an auth error') or diag(explain($r->{errors}));

# ---- --devices-file: ids and credentials from the file, no registering
$t->register_device("IMEI:4900$_", "user$_", "pass-$_") for 1 .. 3;
OmadmTest::_write("$dir/devices.txt", "# id user password\n"
    . join('', map { "IMEI:4900$_ user$_ pass-$_\n" } 1 .. 3), 0600);
($rc, $r, $err) = sim('--devices-file', "$dir/devices.txt", '--sessions', 3,
                      '--verify', 2, '--seed', 8);
is($rc, 0, 'devices file: exit 0') or diag($err);
is($r->{devices}, 3, 'devices file: 3 devices');
is($r->{sessions_completed}, 9, 'devices file: 9 sessions');
is($r->{verify}{correct}, 6, 'devices file: verify correct');
is(scalar(commands_of('IMEI:49001')), 2, 'devices file: commands on the named device');

# a command on a planned target that is not what --verify queues (another
# verb, other data) is answered 400 and reported, never counted correct
$t->queue_command('IMEI:49002', { verb => 'Replace', target => './Sim/1/Node',
                                  data => 'not-d-1', format => 'chr' });
$t->queue_command('IMEI:49002', { verb => 'Delete', target => './Sim/0/Node' });
($rc, $r, $err) = sim('--devices-file', "$dir/devices.txt", '--seed', 8);
is($rc, 0, 'foreign commands: the run itself completes') or diag($err);
is($r->{errors}{command_not_as_queued}, 2,
   'foreign commands: both reported as not as queued');
is_deeply([ sort map { $_->{status} } grep { $_->{target} =~ m{^\./Sim/} && $_->{verb} ne 'Get'
              && ($_->{data} // '') ne 'd-1' } commands_of('IMEI:49002') ],
          [400, 400], 'foreign commands: the device answered them 400');

# a wrong password: challenged, refused, not retried
OmadmTest::_write("$dir/wrong.txt", "IMEI:49001 user1 not-the-password\n", 0600);
($rc, $r, $err) = sim('--devices-file', "$dir/wrong.txt", '--retries', 3);
is($rc, 1, 'wrong password: exit 1') or diag($err);
is($r->{sessions_failed}, 1, 'wrong password: the session failed');
ok(grep(/^auth_40[17]$/, keys %{ $r->{errors} }),
   'wrong password: an auth_401/auth_407 error') or diag(explain($r->{errors}));

# ---- open loop and duration
($rc, $r, $err) = sim('--devices', 10, '--sessions', 2, '--rate', 40,
                      '--seed', 9, '--prefix', 'open');
is($rc, 0, 'open loop: exit 0') or diag($err);
is($r->{sessions_completed}, 20, 'open loop: 20 sessions');
ok($r->{elapsed_s} >= 0.4, "open loop: 20 starts at 40/s take about 0.5 s ($r->{elapsed_s})");
($rc, $r, $err) = sim('--devices', 4, '--concurrency', 2, '--duration', 1,
                      '--seed', 10, '--prefix', 'dur');
is($rc, 0, 'duration: exit 0') or diag($err);
ok($r->{sessions_completed} > 4, "duration: devices cycle until the deadline ($r->{sessions_completed} sessions)");
ok($r->{elapsed_s} >= 1 && $r->{elapsed_s} < 5, 'duration: about one second');

# ---- TLS: a CA that did not sign the server's certificate
mkdir "$dir/other-ca";
system("$OmadmTest::ROOT/scripts/gen-certs.sh", "$dir/other-ca") == 0 or die;
($rc, $r, $err) = sim('--devices', 2, '--seed', 11, '--prefix', 'tls',
                      '--ca', "$dir/other-ca/ca.crt", '--retries', 1,
                      '--retry-cap-ms', 50);
is($rc, 1, 'wrong CA: exit 1') or diag($err);
is($r->{sessions_completed}, 0, 'wrong CA: no session');
is($r->{sessions_failed}, 2, 'wrong CA: both sessions failed after a retry');
is_deeply($r->{errors}, { tls_verify => 4 }, 'wrong CA: errors name TLS verification');

($rc, $r, $err) = sim('--ca', "$dir/no-such-ca.crt", '--devices', 1);
is($rc, 2, 'unreadable CA file: exit 2 (setup)');
like($err, qr/CA file/, 'unreadable CA file: says so');
($rc, $r, $err) = sim('--bogus');
is($rc, 2, 'usage error: exit 2');
like($err, qr/unknown option --bogus/, 'usage error: names the option');

$t->check_error_log;
done_testing;
