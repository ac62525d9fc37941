#!/usr/bin/perl
#
# Large objects in omadm-backend alone (docs/backend-api.md, `exchange`'s
# data_size and the `object` call): a top-level Add or Replace of up to
# 16 MiB is handed out by size only and read back piece by piece, byte-exact
# and on character boundaries, each answer within 512 KiB; a device's large
# Results are stored whole.  The real backend on a loopback port, called
# over HTTP like the module calls it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Encode qw(encode_utf8);
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use OmadmTest;

my $KiB = 1024;
my $MiB = 1024 * $KiB;
my $MAX_ANSWER = 512 * $KiB;

my $t = OmadmTest->new;
$t->start_backend;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 60, keep_alive => 0);

# contract(op, body (ref or raw string), key) -> (status, decoded, raw body)
sub contract {
    my ($op, $body, $key) = @_;
    my $r = $http->post("http://127.0.0.1:" . $t->api_port . "/contract/$op", {
        headers => { 'X-Omadm-Key' => $key // $t->{key},
                     'Content-Type' => 'application/json' },
        content => ref $body ? $json->encode($body) : $body });
    return ($r->{status}, eval { $json->decode($r->{content}) } // {},
            $r->{content});
}

sub object {
    my ($device, $cid, $offset, $length) = @_;
    return contract(object => { device_id => $device, command_id => $cid,
                                offset => $offset, length => $length });
}

my $session = 0;
sub start_session {
    my ($device, %o) = @_;
    return contract(exchange => { device_id => $device, session_id => ++$session . '',
                                  msg_id => '1', session_start => JSON::PP::true,
                                  max_commands => 50, %o });
}

sub answer {
    my ($device, %o) = @_;
    return contract(exchange => { device_id => $device, session_id => "$session",
                                  msg_id => '2', max_commands => 0, %o });
}

sub commands_path { '/devices/' . OmadmTest::uri_escape($_[0]) . '/commands' }

# Queues $n bytes of 'x' without JSON::PP, which takes seconds over 16 MiB:
# (status, raw answer).
sub queue_ascii {
    my ($device, $verb, $n) = @_;
    my $r = $http->post($t->api_url(commands_path($device)), {
        headers => { Authorization => "Bearer $t->{token}" },
        content => qq({"verb":"$verb","target":"./Vendor/Acme/Huge","data":")
                   . ('x' x $n) . '"}' });
    return ($r->{status}, $r->{content});
}

# A character string of at least $bytes bytes of UTF-8: ASCII, 2-, 3- and
# 4-byte characters, XML's '<' and '&', JSON's '"' and '\', and the control
# characters XML carries (TAB, LF, CR; the operator API refuses the others).
sub mixed_text {
    my ($bytes) = @_;
    my $unit = "Caf\x{e9} <a href=\"x\">&amp;</a> 20\x{20ac} \x{1F600}"
             . " back\\slash \rtab\tnl\n ";
    my $n = int($bytes / length(encode_utf8($unit))) + 1;
    return $unit x $n;
}

# The first offset past $from in $bytes where a character of $len bytes
# starts.
sub char_at {
    my ($bytes, $len, $from) = @_;
    my $lead = { 2 => qr/[\xC2-\xDF]/, 3 => qr/[\xE0-\xEF]/,
                 4 => qr/[\xF0-\xF4]/ }->{$len};
    pos($bytes) = $from // 0;
    $bytes =~ /$lead/g or die "no $len-byte character";
    return pos($bytes) - 1;
}

my $dev = 'IMEI:350000000000777';
$t->register_device($dev, 'objects', 'obj3cts');
my $other = 'IMEI:350000000000778';
$t->register_device($other, 'other', 'oth3r');

# ---------------------------------------------------------------------------
# A 3 MiB Replace: accepted, handed out by size, read back piece by piece.

my $text  = mixed_text(3 * $MiB);
my $bytes = encode_utf8($text);
my $size  = length $bytes;
my ($st, $c) = $t->api(POST => commands_path($dev),
    { verb => 'Replace', target => './Vendor/Acme/Blob', data => $text,
      format => 'chr', type => 'text/plain' });
is($st, 201, "a Replace of $size bytes (3 MiB of mixed UTF-8): 201");
ok($c->{data} eq $text, '... stored whole');
my $cid = $c->{id};

($st, my $b) = object($dev, $cid, 0, 4000);
is($st, 404, 'object of a command still queued: 404');
is($b->{error}, 'unknown command', '... "unknown command"');

($st, $b, my $raw) = start_session($dev);
is($st, 200, 'exchange hands it out');
my ($cmd) = grep { $_->{id} eq $cid } @{ $b->{commands} };
ok($cmd, '... in the answer');
is($cmd->{data_size}, $size, '... with data_size, its length in bytes');
ok(!exists $cmd->{data}, '... and without data');
is_deeply([ @$cmd{qw(verb target format type)} ],
          [ 'Replace', './Vendor/Acme/Blob', 'chr', 'text/plain' ],
          '... every other field as usual');
cmp_ok(length $raw, '<', 4 * $KiB, '... the answer is small');
is($t->get_command($dev, $cid)->{state}, 'sent', '... now sent');

# Read it all, in pieces of varying lengths.
my @lengths = (4000, 1, 3, 65536, 600000, 2, 100_000);
my ($offset, $got, $calls, $bad, $too_small, $over, $short) = (0, '', 0, 0, 0, 0, 0);
my %answer_sizes;
while ($offset < $size) {
    my $length = $lengths[ $calls++ % @lengths ];
    my ($s, $p, $body) = object($dev, $cid, $offset, $length);
    if ($s == 400 && ($p->{error} // '') eq 'length too small') {
        # allowed only when the next character is longer than $length
        my $char_len = substr($bytes, $offset, 1) =~ /[\xF0-\xF4]/ ? 4
                     : substr($bytes, $offset, 1) =~ /[\xE0-\xEF]/ ? 3
                     : substr($bytes, $offset, 1) =~ /[\xC2-\xDF]/ ? 2 : 1;
        $bad++ unless $length < $char_len;
        $too_small++;
        next;
    }
    unless ($s == 200 && defined $p->{data} && ($p->{size} // -1) == $size) {
        $bad++;
        diag("object at $offset, length $length: $s $body");
        last;
    }
    my $piece = encode_utf8($p->{data});
    my $n = length $piece;
    $over++ if length($body) > $MAX_ANSWER;
    $bad++ if $n == 0 || $n > $length;
    $bad++ if $piece ne substr($bytes, $offset, $n);
    # ends on a character boundary: the next byte starts a character
    $bad++ if $offset + $n < $size
              && substr($bytes, $offset + $n, 1) =~ /[\x80-\xBF]/;
    # shorter than asked only at a character's edge or the answer's limit
    if ($n < $length && $offset + $n < $size) {
        my $room = $MAX_ANSWER - length $body;
        $short++ unless $length - $n < 4 || $room < 6;
    }
    $answer_sizes{$length} = length $body
        if length $body > ($answer_sizes{$length} // 0);
    $got .= $piece;
    $offset += $n;
}
is($bad, 0, "read back in $calls calls: every piece non-empty, within its"
            . ' length, byte-exact and ending on a character boundary');
is($over, 0, 'every answer within 512 KiB');
is($short, 0, 'a piece is cut short only at a character or the 512 KiB limit');
ok($got eq $bytes, 'the concatenation is byte-identical');
cmp_ok($answer_sizes{600000}, '>', $MAX_ANSWER - 6,
       'asking 600000 bytes gives as much as fits in 512 KiB');
note("length too small answered $too_small times");

# Character boundaries asked for directly.
my $four = char_at($bytes, 4);
($st, $b) = object($dev, $cid, $four, 3);
is($st, 400, 'a 4-byte character asked with length 3: 400');
is($b->{error}, 'length too small', '... "length too small"');
($st, $b) = object($dev, $cid, $four, 4);
is($st, 200, '... with length 4: 200');
is($b->{data}, "\x{1F600}", '... the character');
($st, $b) = object($dev, $cid, $four, 6);
is($b->{data}, "\x{1F600} b", '... length 6: the character and the next two');
($st, $b) = object($dev, $cid, $four, 5);
is($b->{data}, "\x{1F600} ", '... length 5: the character and the next one');
my $three = char_at($bytes, 3);
($st, $b) = object($dev, $cid, $three - 1, 3);
is(encode_utf8($b->{data}), substr($bytes, $three - 1, 1),
   'a piece stops before a character that does not fit whole');
($st, $b) = object($dev, $cid, $four + 1, 100);
is($st, 400, 'an offset inside a character: 400');
($st, $b) = object($dev, $cid, $size, 100);
is($st, 200, 'offset == size: 200');
is_deeply($b, { data => '', size => $size }, '... an empty piece and the size');
($st, $b) = object($dev, $cid, $size - 1, 100);
is_deeply($b, { data => ' ', size => $size }, '... the last byte alone');

# ---------------------------------------------------------------------------
# Refusals.

for my $bad (
    [ 'offset past the end', { offset => $size + 1 } ],
    [ 'length 0', { length => 0 } ],
    [ 'negative offset', { offset => -1 } ],
    [ 'negative length', { length => -5 } ],
    [ 'fractional length', { length => 1.5 } ],
    [ 'offset as a string', { offset => '0' } ],
    [ 'no offset', { offset => undef } ],
    [ 'no length', { length => undef } ],
    [ 'no command_id', { command_id => undef } ],
    [ 'numeric command_id', { command_id => 0 + "$cid" } ],
    [ 'no device_id', { device_id => undef } ],
) {
    my ($name, $change) = @$bad;
    my %req = (device_id => $dev, command_id => $cid, offset => 0, length => 10,
               %$change);
    delete $req{$_} for grep { !defined $req{$_} } keys %req;
    ($st, $b) = contract(object => \%req);
    is($st, 400, "object, $name: 400");
    ok(length($b->{error} // ''), '... with a message');
}
($st, $b) = contract(object => '{"device_id":');
is($st, 400, 'object, malformed JSON: 400');
($st) = contract(object => { device_id => $dev, command_id => $cid, offset => 0,
                             length => 10 }, 'wrong-key');
is($st, 401, 'object with a wrong key: 401');
for my $unknown ([ $other, $cid, "another device's command" ],
                 [ $dev, '999999', 'an unknown command' ],
                 [ $dev, 'abc', 'a command id that is no id' ],
                 [ 'IMEI:nobody', $cid, 'an unknown device' ]) {
    my ($device, $id, $name) = @$unknown;
    ($st, $b) = object($device, $id, 0, 10);
    is("$st " . ($b->{error} // ''), '404 unknown command', "object of $name: 404");
}

# The device answers: the command is done and no longer readable.
($st, $b) = answer($dev, statuses => [ { command_id => $cid, status => 200 } ]);
is($st, 200, 'Status 200 for the large Replace');
is($t->get_command($dev, $cid)->{state}, 'done', '... done');
($st) = object($dev, $cid, 0, 10);
is($st, 404, 'object of a done command: 404');
answer($dev, msg_id => '3', statuses => [ { command_id => $cid, status => 500 } ]);
is_deeply([ @{ $t->get_command($dev, $cid) }{qw(state status)} ], [ 'done', 200 ],
          'a later Status for a done command is ignored');

# ---------------------------------------------------------------------------
# Limits: 16 MiB for a top-level Add or Replace, 256 KiB anywhere else,
# inline up to 64 KiB.

($st, $b) = queue_ascii($dev, 'Replace', 16 * $MiB + 1);
is($st, 400, 'a Replace of 16 MiB + 1 byte: 400');
like(eval { $json->decode($b)->{error} } // $b, qr/"data" is 16777217 bytes, more than 16777216 \(16 MiB\)/,
     '... says the size and the limit');
($st, $b) = queue_ascii($dev, 'Add', 16 * $MiB);
is($st, 201, 'an Add of exactly 16 MiB: 201');
my ($huge) = $b =~ /"id":"(\d+)"/;
($st, $b) = $t->api(POST => commands_path($dev), { verb => 'Atomic', commands => [
    { verb => 'Replace', target => './Vendor/Acme/A', data => '1' },
    { verb => 'Replace', target => './Vendor/Acme/B', data => 'y' x (256 * $KiB + 1) } ] });
is($st, 400, 'a nested Replace of 256 KiB + 1 byte: 400');
like($b->{error} // '', qr/^commands\[1\]: "data" is 262145 bytes.*top-level Add or Replace/,
     '... says where, and that only a top-level Add or Replace may be larger');
($st, $b) = $t->api(POST => commands_path($dev),
    { verb => 'Exec', target => './Vendor/Acme/Run', data => 'z' x (256 * $KiB + 1) });
is($st, 400, 'an Exec with 256 KiB + 1 byte of data: 400');

my %queued;
for my $case ([ inline => 64 * $KiB ], [ by_size => 64 * $KiB + 1 ]) {
    my ($name, $n) = @$case;
    ($st, $b) = $t->api(POST => commands_path($dev),
        { verb => 'Replace', target => "./Vendor/Acme/$name", data => 'q' x $n });
    is($st, 201, "a Replace of $n bytes: 201");
    $queued{$name} = $b->{id};
}
($st, $b) = $t->api(POST => commands_path($dev), { verb => 'Sequence', commands => [
    { verb => 'Replace', target => './Vendor/Acme/N', data => 'n' x (100 * $KiB) } ] });
is($st, 201, 'a nested Replace of 100 KiB: 201');
my $nested = $b->{commands}[0]{id};
($st, $b) = $t->api(POST => commands_path($dev),
    { verb => 'Exec', target => './Vendor/Acme/Run', data => 'e' x (100 * $KiB) });
is($st, 201, 'an Exec with 100 KiB of data: 201');
my $exec = $b->{id};

($st, $b, $raw) = start_session($dev);
my %out = map { $_->{id} => $_ } @{ $b->{commands} };
my ($seq) = grep { $_->{verb} eq 'Sequence' } @{ $b->{commands} };
is(join(',', sort keys %out),
   join(',', sort $huge, @queued{qw(inline by_size)}, $seq->{id}, $exec),
   'the next session hands out all five together');
cmp_ok(length $raw, '<', 265 * $KiB, '... an answer of the 264 KiB inline data and little more');
is($out{$huge}{data_size}, 16 * $MiB, 'the 16 MiB Add: data_size');
is($out{ $queued{inline} }{data}, 'q' x (64 * $KiB), '64 KiB: inline');
ok(!exists $out{ $queued{inline} }{data_size}, '... without data_size');
is($out{ $queued{by_size} }{data_size}, 64 * $KiB + 1, '64 KiB + 1: data_size');
ok(!exists $out{ $queued{by_size} }{data}, '... without data');
my ($child) = @{ $seq->{commands} };
is_deeply([ $child->{id}, length $child->{data}, exists $child->{data_size} ? 1 : 0 ],
          [ $nested, 100 * $KiB, 0 ],
          'a nested 100 KiB Replace: inline (the module chunks only top-level ones)');
is_deeply([ length $out{$exec}{data}, exists $out{$exec}{data_size} ? 1 : 0 ],
          [ 100 * $KiB, 0 ], 'an Exec with 100 KiB: inline');
($st, $b) = object($dev, $nested, 0, 10);
is("$st $b->{data} $b->{size}", "200 nnnnnnnnnn " . 100 * $KiB,
   '... any sent command is readable with object all the same');
($st, $b, $raw) = object($dev, $huge, 16 * $MiB - 600_000, 600_000);
is(length $b->{data}, $MAX_ANSWER - length('{"data":"","size":16777216}'),
   'the end of the 16 MiB Add: a piece as large as one answer holds');

# An object of quotes: 2 bytes each once escaped.
($st, $b) = $t->api(POST => commands_path($other),
    { verb => 'Replace', target => './Vendor/Acme/Ctl', data => '"' x (600 * $KiB) });
my $ctl = $b->{id};
start_session($other);
($st, $b, $raw) = object($other, $ctl, 0, 600_000);
is($st, 200, 'object of 600 KiB of quotes');
is(length $b->{data}, int(($MAX_ANSWER - length('{"data":"","size":614400}')) / 2),
   '... as many as fit escaped');
cmp_ok(length $raw, '<=', $MAX_ANSWER, '... within 512 KiB');

# ---------------------------------------------------------------------------
# A device's large Results (reassembled by the module) are stored whole.

($st, $b) = $t->api(POST => commands_path($other),
                    { verb => 'Get', target => './Vendor/Acme/Log' });
my $get = $b->{id};
start_session($other);
my $result = mixed_text(3 * $MiB);
($st, $b) = answer($other, msg_id => '2',
    results => [ { command_id => $get, source => './Vendor/Acme/Log', format => 'chr',
                   type => 'text/plain', data => $result } ],
    statuses => [ { command_id => $get, status => 200 } ]);
is($st, 200, 'an exchange with a 3 MiB result: 200');
my $stored = $t->get_command($other, $get);
is($stored->{state}, 'done', '... the Get is done');
is(scalar @{ $stored->{results} }, 1, '... one result');
ok($stored->{results}[0]{data} eq $result,
   '... stored whole and returned intact by the operator API');

$t->stop_backend;
like($t->backend_log, qr{POST /contract/object 200 }, 'object calls are logged');

done_testing();
