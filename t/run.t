#!/usr/bin/perl
# `make run` as shipped: scripts/run.sh with a private OMADM_STATE_DIR and
# free ports, stopped by scripts/stop.sh, twice on the same state.
#
# * The backend contract is on a unix socket in the state directory
#   (mode 0660, its directory only for nginx's workers): a device session
#   runs through it, and the operator API's port does not serve it.
# * The logs (session tokens are in nginx's error log) are 0600: those of
#   an earlier run too, and those nginx creates when it reopens its logs
#   after a rotation (USR1).
# * The CA's private key is not in the state directory, which the running
#   server uses, but beside it (<state>-ca/, 0700): a key an earlier
#   version left in the state directory is moved there, and the second run
#   reuses the certificates.
# * TLS as the sample configuration sets it: 1.2 and 1.3 only, and on 1.2
#   forward-secret AEAD suites only (ECDHE with AES-GCM or ChaCha20); an
#   ECDSA P-256 server key; sessions resumed from the server's cache, on
#   1.2 and 1.3.
# * limit_req on the device endpoint: a client (127.0.0.2) sending
#   requests as fast as it can gets 503 past its burst, while a device
#   session of loopback's 127.0.0.1 (exempt: the host's own tools) runs.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::SSL;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use OmadmTest;
use OmadmTest::Device;

OmadmTest::require_binaries();
alarm 180;

my $top = tempdir('omadm-run-XXXXXX', TMPDIR => 1, CLEANUP => 0);
chmod 0755, $top;    # nginx's workers (nobody) reach the state inside
my $state = "$top/var";
my %env = (OMADM_STATE_DIR => $state, OMADM_HTTPS_PORT => OmadmTest::free_port(),
           OMADM_API_PORT => OmadmTest::free_port());
my $api = "http://127.0.0.1:$env{OMADM_API_PORT}/api/v1";
my $run_pid;

# scripts/run.sh in the background until it says it is running
sub start_run {
    my ($n) = @_;
    my $out = "$top/run-$n.out";
    $run_pid = fork // die "fork: $!\n";
    if ($run_pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM ALRM PIPE);
        @ENV{ keys %env } = values %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>&', \*STDOUT;
        exec "$OmadmTest::ROOT/scripts/run.sh" or POSIX::_exit(127);
    }
    my $deadline = time + 60;
    while (time < $deadline) {
        return 1 if OmadmTest::_slurp($out) =~ /ngx_omadm is running/;
        last if waitpid($run_pid, WNOHANG) == $run_pid;
        sleep 0.1;
    }
    diag("run.sh did not start:\n" . OmadmTest::_slurp($out));
    return 0;
}

# scripts/stop.sh, then run.sh notices and exits; its exit status
sub stop_run {
    return unless $run_pid;
    local $ENV{OMADM_STATE_DIR} = $state;
    system("$OmadmTest::ROOT/scripts/stop.sh >> $top/stop.out 2>&1");
    my $deadline = time + 15;
    while (time < $deadline) {
        if (waitpid($run_pid, WNOHANG) == $run_pid) {
            undef $run_pid;
            return $? >> 8;
        }
        sleep 0.1;
    }
    kill 'TERM', $run_pid;    # its trap stops nginx and the backend
    waitpid($run_pid, 0);
    undef $run_pid;
    return -1;
}

END {
    my $status = $?;
    stop_run();
    if ($status == 0 && Test::More->builder->is_passing && !$ENV{OMADM_KEEP}) {
        system('rm', '-rf', $top);
    } else {
        diag("test directory kept: $top");
    }
    $? = $status;
}

sub token { (split /\n/, OmadmTest::_slurp("$state/admin.token"))[0] }

sub api {
    my ($method, $path, $body) = @_;
    my $r = HTTP::Tiny->new(timeout => 10)->request($method, "$api$path", {
        headers => { Authorization => 'Bearer ' . token() },
        ($body ? (content => encode_json($body)) : ()) });
    return ($r->{status}, eval { decode_json($r->{content}) } // $r->{content});
}

sub device {
    my (%o) = @_;
    return OmadmTest::Device->new(url => "https://127.0.0.1:$env{OMADM_HTTPS_PORT}/omadm",
                                  ca => "$state/ca.crt", %o);
}

sub hdr_code { OmadmTest::Device::hdr_status($_[0]{syncml})->{Data} }

sub mode { my @s = stat $_[0]; return @s ? sprintf('%04o', $s[2] & 07777) : 'missing' }

my @LOGS = qw(error.log access.log backend.log nginx.out);

# --- the first run ----------------------------------------------------------

sub openssl_out {
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec('openssl', @_) or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return $? == 0 ? $out : "openssl @_ failed";
}

# whether nginx's workers' user could read a file (tried as that user)
sub nobody_reads {
    my ($file) = @_;
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        POSIX::setgid(scalar getgrnam('nogroup'));
        POSIX::setuid(scalar getpwnam('nobody'));
        POSIX::_exit(open(my $fh, '<', $file) ? 0 : 1);
    }
    waitpid($pid, 0);
    return $? == 0;
}

# An earlier run: logs readable by everyone, and the CA (key and all) in
# the state directory, as gen-certs.sh used to leave it.
mkdir $state or die "$state: $!\n";
OmadmTest::_write("$state/$_", "earlier run\n", 0644) for @LOGS;
openssl_out('req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256',
            '-days', 2, '-subj', '/CN=earlier run CA', '-keyout', "$state/ca.key",
            '-out', "$state/ca.crt", '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign') !~ /failed$/
    or die "openssl req failed\n";
my $old_key = OmadmTest::_slurp("$state/ca.key");
my $old_ca = OmadmTest::_slurp("$state/ca.crt");

ok(start_run(1), 'run.sh starts') or BAIL_OUT('make run does not start');

# The CA's key: beside the state directory, not in it.
my $ca_dir = "$state-ca";
ok(!-e "$state/ca.key", "the CA's key is no longer in the state directory");
is(OmadmTest::_slurp("$ca_dir/ca.key"), $old_key, "... but in $ca_dir, the same key");
is(mode($ca_dir), '0700', '... a directory of mode 0700');
is(mode("$ca_dir/ca.key"), '0600', '... and the key 0600');
is(OmadmTest::_slurp("$state/ca.crt"), $old_ca, 'the CA certificate stays');
like(openssl_out('verify', '-CAfile', "$state/ca.crt", "$state/server.crt"), qr/: OK$/m,
     'the new server certificate is signed by that CA');
# the private keys there: nginx's server key, and the device CA's that the
# backend issues enrollment certificates with (an intermediate, not the root)
my @keys = sort grep { OmadmTest::_slurp($_) =~ /PRIVATE KEY/ }
                split /\n/, `find $state -type f`;
is_deeply(\@keys, [ "$state/device-ca.key", "$state/server.key" ],
          'the private keys in the state directory are the server\'s and the device CA\'s');
for my $key (@keys) {
    ok(!nobody_reads($key), "... $key: nginx's workers cannot read it") if $> == 0;
}
my %cert = map { $_ => OmadmTest::_slurp("$state/$_") } qw(ca.crt server.crt server.key);

# The contract's unix socket
my $sock = "$state/contract/contract.sock";
ok(-S $sock, 'the contract is on a unix socket in the state directory');
is(sprintf('%04o', ((stat $sock)[2] // 0) & 07777), '0660', '... mode 0660');
if ($> == 0) {
    my @dir = stat "$state/contract";
    is(sprintf('%04o', ($dir[2] // 0) & 07777), '2750', '... in a directory of mode 2750');
    is($dir[5], scalar getgrnam('nogroup'), "... of nginx's workers' group");
}
my ($st) = api(POST => '/devices',
               { device_id => 'IMEI:run-1', username => 'run', password => 'secret' });
is($st, 201, 'operator API: a device registered');
my ($qst, $cmd) = api(POST => '/devices/IMEI%3Arun-1/commands',
                      { verb => 'Get', target => './DevDetail/SwV' });
my $d = device(id => 'IMEI:run-1', user => 'run', pass => 'secret');
my $res = $d->post($d->package1(cred => undef));
is(hdr_code($res), '407', 'a device session through nginx: 407');
$res = $d->post($d->package1);
is(hdr_code($res), '212', '... 212');
$d->post($d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '1.0' }));
is((api(GET => "/devices/IMEI%3Arun-1/commands/$cmd->{id}"))[1]{state}, 'done',
   '... the Get is done');
my $key = (split /\n/, OmadmTest::_slurp("$state/contract.key"))[0];
my $r = HTTP::Tiny->new(timeout => 10)->post(
    "http://127.0.0.1:$env{OMADM_API_PORT}/contract/auth",
    { headers => { 'X-Omadm-Key' => $key },
      content => '{"device_id":"IMEI:run-1","username":""}' });
is($r->{status}, 404, 'the operator port does not serve the contract');

# --- TLS -------------------------------------------------------------------------

# a handshake with the device endpoint: "ok <protocol> <cipher>" or "failed"
sub handshake {
    my (%o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $env{OMADM_HTTPS_PORT},
        Timeout => 5, SSL_ca_file => "$state/ca.crt", SSL_verifycn_scheme => 'http',
        SSL_verifycn_name => '127.0.0.1', %o);
    return $s ? join(' ', 'ok', $s->get_sslversion, $s->get_cipher) : 'failed';
}
like(openssl_out('x509', '-in', "$state/server.crt", '-noout', '-text'),
     qr/Public Key Algorithm: id-ecPublicKey.*NIST CURVE: P-256/s,
     'the server key is ECDSA P-256');
like(handshake(), qr/^ok TLSv1_3 /, 'TLS 1.3 by default');
like(handshake(SSL_version => 'TLSv1_2', SSL_cipher_list => 'ECDHE-ECDSA-AES128-GCM-SHA256'),
     qr/^ok TLSv1_2 ECDHE-ECDSA-AES128-GCM-SHA256$/, 'TLS 1.2 with ECDHE and AES-GCM');
like(handshake(SSL_version => 'TLSv1_2', SSL_cipher_list => 'ECDHE-ECDSA-CHACHA20-POLY1305'),
     qr/^ok TLSv1_2 ECDHE-ECDSA-CHACHA20-POLY1305$/, '... and with ChaCha20-Poly1305');
for my $suite (qw(ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384 AES128-GCM-SHA256 AES256-SHA)) {
    is(handshake(SSL_version => 'TLSv1_2', SSL_cipher_list => "$suite:\@SECLEVEL=0"),
       'failed', "TLS 1.2 with $suite (not AEAD, or not forward-secret) is refused");
}
is(handshake(SSL_version => 'TLSv1_1', SSL_cipher_list => 'DEFAULT:@SECLEVEL=0'), 'failed',
   'TLS 1.1 is refused');

# Resumption: a second connection offering the first one's session (saved
# by openssl s_client after a request and its answer: 1.3 hands out its
# session after the handshake, so s_client reads on to nginx's close,
# -ign_eof, instead of leaving at the end of its input) resumes it, without a signature by the
# server key: from nginx's session cache, as tickets are off.
OmadmTest::_write("$top/request", "GET /nothing HTTP/1.0\r\n\r\n", 0644);
sub s_client {
    my ($version, @o) = @_;
    return scalar qx{openssl s_client -connect 127.0.0.1:$env{OMADM_HTTPS_PORT} -CAfile $state/ca.crt -verify_return_error -ign_eof $version @o < $top/request 2>/dev/null};
}
for my $version (qw(-tls1_2 -tls1_3)) {
    unlink "$top/session";
    my $first = s_client($version, '-sess_out', "$top/session");
    my $second = s_client($version, '-sess_in', "$top/session");
    my @got = map { /^(New|Reused), (TLSv[\d.]+)/m ? "$1 $2" : 'failed' } $first, $second;
    (my $v = $version) =~ s/^-tls1_/TLSv1./;
    is("@got", "New $v Reused $v", "$v: the second connection resumes the first one's session");
}

# --- limit_req ------------------------------------------------------------------

my $fast = HTTP::Tiny->new(timeout => 10, keep_alive => 1, local_address => '127.0.0.2',
    verify_SSL => 1, SSL_options => { SSL_ca_file => "$state/ca.crt" });
my @got = map { $fast->get("https://127.0.0.1:$env{OMADM_HTTPS_PORT}/omadm")->{status} }
          1 .. 200;
my %n;
$n{$_}++ for @got;
is(join(' ', @got[0 .. 39]), join(' ', ('405') x 40),
   '127.0.0.2 as fast as it can: its first 40 requests are served (the burst)')
    or diag explain \%n;
ok($n{503}, "past the burst it gets 503 ($n{503} of 200)") or diag explain \%n;
is(($n{405} // 0) + ($n{503} // 0), 200, '... and nothing else');
like(OmadmTest::_slurp("$state/error.log"), qr/limiting requests.*client: 127\.0\.0\.2/,
     '... from limit_req');
$d->new_session;
is(hdr_code($d->post($d->package1)), '212', 'meanwhile a device on 127.0.0.1 logs in');

# --- logs ----------------------------------------------------------------------

is(mode("$state/$_"), '0600', "$_ is 0600") for @LOGS;

# a rotation: the logs moved away, nginx told to reopen them
for my $log (qw(error.log access.log)) {
    rename "$state/$log", "$state/$log.1" or die "$log: $!\n";
}
kill 'USR1', (split /\n/, OmadmTest::_slurp("$state/nginx.pid"))[0];
my $deadline = time + 10;
sleep 0.1 while time < $deadline && !(-e "$state/error.log" && -e "$state/access.log");
$d->new_session;
$d->post($d->package1(cred => undef));    # something for the access log
for my $log (qw(error.log access.log)) {
    is(mode("$state/$log"), '0600', "reopened after a rotation: $log is 0600");
}
$deadline = time + 5;    # nginx logs once the client has its answer
sleep 0.05 while time < $deadline
                 && OmadmTest::_slurp("$state/access.log") !~ /IMEI:run-1/;
like(OmadmTest::_slurp("$state/access.log"), qr/IMEI:run-1/, '... and written to');

my @bad = grep { /\[(alert|crit|emerg)\]/ } split /\n/, OmadmTest::_slurp("$state/error.log.1");
ok(!@bad, 'error log has no alert/crit/emerg') or diag(join "\n", @bad);
is(stop_run(), 0, 'stop.sh stops it; run.sh exits 0');
ok(!-e $sock, 'the contract socket is gone');

# --- the second run: the same certificates ------------------------------------

ok(start_run(2), 'run.sh starts again');
for my $f (sort keys %cert) {
    is(OmadmTest::_slurp("$state/$f"), $cert{$f}, "$f is reused");
}
is(OmadmTest::_slurp("$ca_dir/ca.key"), $old_key, "the CA's key too");
$d->new_session;
$res = $d->post($d->package1);
is(hdr_code($res), '212', 'a device trusting the same CA logs in');
is(stop_run(), 0, 'stopped again');

done_testing;
