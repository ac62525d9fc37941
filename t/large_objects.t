#!/usr/bin/perl
# Large objects (§3.3: one Item's data in <MoreData/> chunks over several
# messages), end to end through real nginx and omadm-backend, in XML and in
# WBXML.
#
# A) device -> server, under the server's omadm_max_message_size 64k and
#    omadm_max_object_size 4m: a 3 MiB Result of a Get in chunks, each
#    answered with Status 213 + Alert 1222 (no Final) and the last with 200,
#    every answer within 64 KiB and declaring MaxMsgSize and MaxObjSize; the
#    value reaches the backend byte for byte as one Result, and the Get's own
#    Status only with it; a repeated chunk message adds nothing. 424 when the
#    total differs from Meta/Size, 416 when Meta/Size passes
#    omadm_max_object_size, 413 when chunks without Meta/Size pass it; the
#    same exchange through a location with its own omadm_object_zone.
# B) server -> device, to a device declaring MaxMsgSize 4096: a queued 3 MiB
#    Replace in chunks, every message within 4096 bytes, Meta/Size on the
#    first, MoreData and no Final on all but the last, no UTF-8 character
#    split, the data intact; never sent (413, a reason naming MaxObjSize) to
#    a device whose MaxObjSize is smaller; a 500 on a chunk fails it and the
#    session goes on; a command queued after a large one waits for it.
#
# Where the specification leaves a choice, the fake device does what an OMA
# DM 1.2 client does: it answers every server command with a Status (the
# server's Alert 1222 too), sends no Alert 1222 of its own while it sends
# Results, never splits a UTF-8 character in text data, and after a 413 or
# 416 drops the object and closes its package with Final.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use JSON::PP ();
use List::Util qw(max);
use Time::HiRes qw(time);
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::SyncML qw(xml_escape);
use OmadmTest::WBXML;

my $MiB = 1024 * 1024;
my $SERVER_MSG = 65536;        # omadm_max_message_size 64k
my $SERVER_OBJ = 4 * $MiB;     # omadm_max_object_size 4m
my $ROOM = 60000;              # Data bytes on the wire per device chunk message

my $t0 = time;
my %limits = (omadm_max_message_size => '64k', omadm_max_object_size => '4m');
# the session zone is also the default omadm_object_zone: room for 3 MiB
my $t = OmadmTest->new(
    session_zone => 'zone=omadm:16m ttl=5m',
    http_conf => "    omadm_session_zone zone=objects:16m ttl=5m;\n",
    locations => {
        '/omadm' => { %limits },
        '/omadm-objects' => { %limits, omadm_object_zone => 'objects' },
    })->start;

sub cmds { OmadmTest::Device::commands($_[0]) }
sub statuses { OmadmTest::Device::statuses($_[0]) }
sub state_of { my ($c) = @_; return "$c->{state}:" . ($c->{status} // '-') }

# bytes on the wire (WBXML: as received, before conversion to XML)
sub wire_len { my ($res) = @_; length($res->{raw_content} // $res->{content}) }

# bytes the device put on the wire for its last message
sub sent_len {
    my ($d, $xml) = @_;
    return $d->{http}->can('last_sent') ? length $d->{http}->last_sent : length $xml;
}

# $bytes of UTF-8 text mixing ASCII, 2-, 3- and 4-byte characters and the
# characters XML must escape; the same for the same seed (a fixed LCG).
sub mixed_text {
    my ($bytes, $seed) = @_;
    my @pieces = ('The quick brown fox ', "caf\xc3\xa9 ", "\xe2\x82\xac42 ",
                  "\xf0\x9f\x93\xb1", '<tag>', ' & ', "\xe6\x97\xa5\xe6\x9c\xac",
                  'a<b&&c>d ', 'ascii-0123456789 ', "\xc3\xbc\xc3\x9f");
    my ($x, $len, @out) = ($seed, 0);
    while ($len < $bytes) {
        $x = ($x * 1103515245 + 12345) & 0x7fffffff;
        my $p = $pieces[($x >> 8) % @pieces];
        push @out, $p;
        $len += length $p;
    }
    my $s = substr(join('', @out), 0, $bytes);
    $s =~ s/[\x80-\xff]+\z//;    # the cut may have split a character
    return $s . ('.' x ($bytes - length $s));
}

sub valid_utf8 {
    my ($s) = @_;
    return eval { Encode::decode('UTF-8', $s, Encode::FB_CROAK); 1 } ? 1 : 0;
}

# The length of the next chunk of $v from $pos: at most $room bytes of
# Data on the wire ($xml: after escaping), never splitting a character.
sub chunk_len {
    my ($v, $pos, $room, $xml) = @_;
    my $len = $room;
    while (1) {
        $len = length($v) - $pos if $pos + $len > length $v;
        $len-- while $pos + $len < length($v)
                     && (ord(substr($v, $pos + $len, 1)) & 0xC0) == 0x80;
        return $len unless $xml;
        my $s = substr($v, $pos, $len);
        my $grow = 3 * ($s =~ tr/<>//) + 4 * ($s =~ tr/&//);
        return $len if $len + $grow <= $room;
        $len -= $grow;
    }
}

# got eq want for big byte strings, saying where they part
sub same_bytes {
    my ($got, $want, $name) = @_;
    return pass($name) if defined $got && $got eq $want;
    fail($name);
    return diag('got nothing') unless defined $got;
    my $n = length $got < length $want ? length $got : length $want;
    my ($same) = (substr($got, 0, $n) ^ substr($want, 0, $n)) =~ /^(\0*)/;
    my $at = length $same;
    diag(sprintf 'got %d bytes, want %d; first difference at byte %d: %s vs %s',
         length $got, length $want, $at,
         map { unpack 'H*', substr($_, $at, 16) } $got, $want);
}

# One scenario: a subtest that fails (instead of ending the file) if the
# server answers something the scenario cannot go on with.
sub scenario {
    my ($name, $code) = @_;
    subtest $name => sub {
        my $start = time;
        eval { $code->(); 1 } or fail("stopped: $@");
        note(sprintf '%s: %.1fs', $name, time - $start);
    };
}

my $devno = 0;

# A registered device on a kept-alive connection; WBXML through the test
# codec with %wbxml options.  Returns ($device, $id).
sub new_device {
    my ($enc, %o) = @_;
    my $wbxml = delete $o{wbxml} || {};
    my $id = sprintf 'IMEI:35100000%07d', ++$devno;
    my $d = $t->device(id => $id, user => "lo$devno", pass => "secret$devno",
                       keep_alive => 1, %o);
    $d->{http} = OmadmTest::WBXML::http($d->{http}, %$wbxml) if $enc eq 'wbxml';
    return ($d, $id);
}

sub queue {
    my ($id, $cmd) = @_;
    my ($st, $r) = $t->api(POST => '/devices/' . OmadmTest::uri_escape($id)
                                   . '/commands', $cmd);
    return $r->{id} if $st == 201;
    die "queueing $cmd->{verb} $cmd->{target} refused: $st "
        . substr(ref $r ? JSON::PP::encode_json($r) : $r, 0, 300) . "\n";
}

# Posts a device message; the answer, or death saying what came instead.
sub send_msg {
    my ($d, $xml) = @_;
    my $res = $d->post($xml);
    die "HTTP $res->{status} for device message $d->{msg_id}: "
        . substr($res->{content} // '', 0, 300) . "\n" unless $res->{syncml};
    return $res;
}

# Package 1 twice (407 for the nonce, then authenticated): the answer.
sub login {
    my ($d) = @_;
    $d->post($d->package1(cred => undef));
    return send_msg($d, $d->package1);
}

# A server message in one line: its Statuses (Cmd, MsgRef/CmdRef, code),
# its commands and Final.
sub shape {
    my ($r) = @_;
    return join ' ',
        (map { "Status($_->{Cmd}" . ($_->{Cmd} eq 'SyncHdr' ? ''
               : " $_->{MsgRef}/$_->{CmdRef}") . ")=$_->{Data}" } statuses($r)),
        (map { $_->{name} . (defined $_->{Data} ? "=$_->{Data}" : '') } cmds($r)),
        ($r->{final} ? 'Final' : ());
}

# One chunk of the Results of $get (sent in server message $msg_ref):
# size => Meta/Size (size_in => 'results' puts it in the Results' Meta,
# else the Item's, with Format and Type), more => MoreData.
sub results_xml {
    my ($cmd_id, $msg_ref, $get, $piece, %o) = @_;
    my $size = defined $o{size}
        ? qq{<Size xmlns="syncml:metinf">$o{size}</Size>} : '';
    my $meta = $o{first} ? '<Format xmlns="syncml:metinf">chr</Format>'
                           . '<Type xmlns="syncml:metinf">text/plain</Type>' : '';
    my ($results_meta, $item_meta) = ($o{size_in} // 'item') eq 'results'
        ? ($size, $meta) : ('', $meta . $size);
    my $uri = xml_escape($get->{items}[0]{target});
    return "<Results><CmdID>$cmd_id</CmdID><MsgRef>$msg_ref</MsgRef>"
        . "<CmdRef>" . xml_escape($get->{CmdID}) . "</CmdRef>"
        . (length $results_meta ? "<Meta>$results_meta</Meta>" : '')
        . "<Item><Source><LocURI>$uri</LocURI></Source>"
        . (length $item_meta ? "<Meta>$item_meta</Meta>" : '')
        . "<Data>" . xml_escape($piece) . "</Data>"
        . ($o{more} ? '<MoreData/>' : '') . "</Item></Results>";
}

# A device with a Get of $uri queued, logged in: ($d, $id, $get_id, the
# server message with the Get, the Get).
sub get_session {
    my ($enc, $uri, %o) = @_;
    my ($d, $id) = new_device($enc, wbxml => { opaque => 1 }, %o);
    my $gid = queue($id, { verb => 'Get', target => $uri });
    my $r = login($d)->{syncml};
    my @c = cmds($r);
    die "expected the Get of $uri, got: " . shape($r) . "\n"
        unless @c == 1 && $c[0]{name} eq 'Get';
    return ($d, $id, $gid, $r, $c[0]);
}

# Sends $value as the Results of $get in chunks, the first with
# size => Meta/Size (size_in as results_xml), answering the server message
# $r.  on_answer->($i, $res, $results_cmd_id, $last) after each answer;
# it returns false to stop.  Returns the device message sizes.
sub send_chunks {
    my ($d, $enc, $r, $get, $value, %o) = @_;
    my $msg_ref = $r->{hdr}{MsgID};
    my ($pos, @sizes) = (0);
    for (my $i = 0; $pos < length $value; $i++) {
        my $len = chunk_len($value, $pos, $ROOM, $enc eq 'xml');
        my $piece = substr($value, $pos, $len);
        $pos += $len;
        my $more = $pos < length $value;
        my $rid;
        my $xml = $d->ack($r, final => !$more, extra => sub {
            $rid = shift;
            return results_xml($rid, $msg_ref, $get, $piece, more => $more,
                first => $i == 0, size_in => $o{size_in},
                size => $i == 0 ? $o{size} : undef);
        });
        my $res = send_msg($d, $xml);
        push @sizes, sent_len($d, $xml);
        $r = $res->{syncml};
        last unless $o{on_answer}->($i, $res, $rid, !$more);
    }
    return @sizes;
}

# After the server refused the object: the device's last message of its
# package (Statuses, Final); the server's answer must end the session.
sub close_package {
    my ($d, $r, $enc) = @_;
    my $res = send_msg($d, $d->ack($r));
    is(shape($res->{syncml}), 'Status(SyncHdr)=200 Final',
       "$enc: the device closes its package, the session ends");
}

for my $enc (qw(xml wbxml)) {
    # ---- A: a 3 MiB Result in chunks -------------------------------------
    scenario "$enc: A) 3 MiB Results in chunks under MaxMsgSize 64k" => sub {
        my ($d, $id, $gid, $r, $get) = get_session($enc, './Big/Log');
        my $value = mixed_text(3 * $MiB, 11);
        my (@bad_shape, @bad_hdr, $while_sending, $repeat_ok, $chunks);
        my @sizes = send_chunks($d, $enc, $r, $get, $value, size => length $value,
            on_answer => sub {
                my ($i, $res, $rid, $last) = @_;
                my $r = $res->{syncml};
                my $want = "Status(SyncHdr)=200 Status(Results $d->{msg_id}/$rid)="
                    . ($last ? '200 Final' : '213 Alert=1222');
                push @bad_shape, "chunk $i: " . shape($r) unless shape($r) eq $want;
                push @bad_hdr, "chunk $i: " . wire_len($res) . ' bytes, MaxMsgSize '
                    . ($r->{hdr}{MaxMsgSize} // '-') . ', MaxObjSize '
                    . ($r->{hdr}{MaxObjSize} // '-')
                    unless wire_len($res) <= $SERVER_MSG
                        && ($r->{hdr}{MaxMsgSize} // '') eq $SERVER_MSG
                        && ($r->{hdr}{MaxObjSize} // '') eq $SERVER_OBJ;
                $while_sending = state_of($t->get_command($id, $gid)) if $i == 0;
                if ($i == 2) {    # the answer was lost: the same message again
                    my $again = $d->resend;
                    $repeat_ok = $again->{status} == 200
                        && ($again->{raw_content} // $again->{content})
                           eq ($res->{raw_content} // $res->{content});
                }
                $chunks = $i + 1;
                return 1;
            });
        cmp_ok(max(@sizes), '<', $SERVER_MSG,
               "$enc: every device message under 64 KiB ($chunks chunks, "
               . 'largest ' . max(@sizes) . ' bytes)');
        is_deeply(\@bad_shape, [], "$enc: each chunk answered 213 + Alert 1222 "
                  . 'without Final, the last 200 with Final');
        is_deeply(\@bad_hdr, [], "$enc: every answer within 64 KiB, declaring "
                  . "MaxMsgSize $SERVER_MSG and MaxObjSize $SERVER_OBJ");
        ok($repeat_ok, "$enc: a repeated chunk message gets the same answer");
        is($while_sending, 'sent:-', "$enc: the Get's Status is not reported "
           . 'while its Results are incomplete');
        my $c = $t->get_command($id, $gid);
        is(state_of($c), 'done:200', "$enc: the Get is done (200)");
        is(scalar @{ $c->{results} || [] }, 1, "$enc: ... with one Result");
        my $res = ($c->{results} || [])->[0] || {};
        is($res->{source}, './Big/Log', "$enc: ... from ./Big/Log");
        same_bytes(defined $res->{data} ? Encode::encode('UTF-8', $res->{data}) : undef,
                   $value, "$enc: ... holding the 3 MiB byte for byte, once");
    };

    scenario "$enc: A) total differs from Meta/Size: 424" => sub {
        my ($d, $id, $gid, $r, $get) = get_session($enc, './Big/Short');
        my $value = mixed_text(90_000, 12);
        my @answers;
        send_chunks($d, $enc, $r, $get, $value, size => 100_000, size_in => 'results',
            on_answer => sub { push @answers, [ $_[2], shape($_[1]{syncml}) ]; 1 });
        ok(@answers > 1, "$enc: sent in " . scalar(@answers) . ' chunks');
        my ($rid, $last) = @{ $answers[-1] || [] };
        is($last, "Status(SyncHdr)=200 Status(Results $d->{msg_id}/$rid)=424 Final",
           "$enc: the last chunk answered 424, with Final");
        my $c = $t->get_command($id, $gid);
        is(state_of($c), 'failed:424', "$enc: the Get failed with 424");
        is_deeply($c->{results}, [], "$enc: ... and no Result");
    };

    scenario "$enc: A) Meta/Size over omadm_max_object_size: 416" => sub {
        my ($d, $id, $gid, $r, $get) = get_session($enc, './Big/Huge');
        my $answer;
        send_chunks($d, $enc, $r, $get, mixed_text(2 * $ROOM, 13), size => 5 * $MiB,
            on_answer => sub { $answer = $_[1]{syncml}; 0 });
        my ($st) = grep { $_->{Cmd} eq 'Results' } statuses($answer);
        is($st && $st->{Data}, '416', "$enc: the first chunk answered 416");
        is_deeply([ grep { $_ ne 'Alert=1222' }
                    map { "$_->{name}=" . ($_->{Data} // '') } cmds($answer) ],
                  [], "$enc: ... and no command but Alert 1222");
        close_package($d, $answer, $enc);
        my $c = $t->get_command($id, $gid);
        is(state_of($c), 'failed:416', "$enc: the Get failed with 416");
        is_deeply($c->{results}, [], "$enc: ... and no Result");
    };

    scenario "$enc: A) chunks without Meta/Size past omadm_max_object_size: 413" => sub {
        my ($d, $id, $gid, $r, $get) = get_session($enc, './Big/Unsized');
        my $value = mixed_text($SERVER_OBJ + 2 * $ROOM, 14);
        my (@codes, $answer);
        send_chunks($d, $enc, $r, $get, $value, on_answer => sub {
            my ($i, $res) = @_;
            $answer = $res->{syncml};
            my ($st) = grep { $_->{Cmd} eq 'Results' } statuses($answer);
            push @codes, $st ? $st->{Data} : 'none';
            return $codes[-1] eq '213';
        });
        # which chunk first passes the limit, by the same cut as send_chunks
        my ($total, $past) = (0, 0);
        while (($total += chunk_len($value, $total, $ROOM, $enc eq 'xml'))
               <= $SERVER_OBJ) { $past++ }
        is_deeply(\@codes, [ ('213') x $past, '413' ],
                  "$enc: 213 until the chunk that passes 4 MiB, that one 413");
        close_package($d, $answer, $enc);
        is(state_of($t->get_command($id, $gid)), 'failed:413',
           "$enc: the Get failed with 413");
    };

    scenario "$enc: A) through a location with its own omadm_object_zone" => sub {
        # WBXML Data as inline strings here, OPAQUE elsewhere
        my ($d, $id, $gid, $r, $get) = get_session($enc, './Big/Zoned',
            path => '/omadm-objects', wbxml => {});
        my $value = mixed_text(200_000, 15);
        my @answers;
        send_chunks($d, $enc, $r, $get, $value, size => length $value,
            on_answer => sub { push @answers, shape($_[1]{syncml}); 1 });
        ok(@answers > 2, "$enc: sent in " . scalar(@answers) . ' chunks');
        is_deeply([ map { s/ \d+\/\d+\)/)/r } @answers ],
                  [ ('Status(SyncHdr)=200 Status(Results)=213 Alert=1222') x $#answers,
                    'Status(SyncHdr)=200 Status(Results)=200 Final' ],
                  "$enc: 213 for each chunk, 200 for the last");
        my $c = $t->get_command($id, $gid);
        is(state_of($c), 'done:200', "$enc: the Get is done");
        same_bytes(Encode::encode('UTF-8', (($c->{results} || [])->[0] || {})->{data} // ''),
                   $value, "$enc: ... its Result intact");
    };

    # ---- B: a 3 MiB Replace to a device of MaxMsgSize 4096 ---------------
    scenario "$enc: B) 3 MiB Replace in chunks within MaxMsgSize 4096" => sub {
        my ($d, $id) = new_device($enc, max_msg_size => 4096, max_obj_size => 8 * $MiB);
        my $value = mixed_text(3 * $MiB, 21);
        my $cid = queue($id, { verb => 'Replace', target => './Big/Blob',
                               data => Encode::decode('UTF-8', $value) });
        my $res = login($d);
        my (@data, @over, @bad_hdr, @bad_cmd, @bad_more, @split, $size, $end);
        for my $i (0 .. 5000) {
            my $r = $res->{syncml};
            push @over, "message $i: " . wire_len($res) if wire_len($res) > 4096;
            push @bad_hdr, "message $i" unless ($r->{hdr}{MaxMsgSize} // '') eq $SERVER_MSG
                                             && ($r->{hdr}{MaxObjSize} // '') eq $SERVER_OBJ;
            my @c = cmds($r);
            my $item = @c == 1 && $c[0]{name} eq 'Replace' && @{ $c[0]{items} } == 1
                ? $c[0]{items}[0] : undef;
            unless ($item && ($item->{target} // '') eq './Big/Blob') {
                push @bad_cmd, "message $i: " . shape($r);
                last;
            }
            $size = $item->{size} if $i == 0;
            push @data, $item->{data} // '';
            push @split, $i unless valid_utf8($data[-1]);
            if ($item->{more_data}) {
                push @bad_more, "chunk $i has Final" if $r->{final};
                $res = send_msg($d, $d->answer($r, codes => { './Big/Blob' => 213 }));
            } else {
                push @bad_more, "last chunk $i without Final" unless $r->{final};
                $end = send_msg($d, $d->answer($r))->{syncml};
                last;
            }
        }
        is_deeply(\@bad_cmd, [], "$enc: every message holds one Replace of one Item "
                  . 'for ./Big/Blob');
        ok(@data > 700, "$enc: sent in " . scalar(@data) . ' chunks');
        is_deeply(\@over, [], "$enc: no message over 4096 bytes");
        is_deeply(\@bad_hdr, [], "$enc: each declares the server's MaxMsgSize and MaxObjSize");
        is($size, length $value, "$enc: Meta/Size on the first chunk: the UTF-8 bytes");
        is_deeply(\@bad_more, [], "$enc: MoreData without Final on all chunks but the last");
        is_deeply(\@split, [], "$enc: no chunk splits a UTF-8 character");
        same_bytes(join('', @data), $value, "$enc: the chunks add up to the value");
        is($end && shape($end), 'Status(SyncHdr)=200 Final',
           "$enc: the device's 200 for the last chunk ends the session");
        is(state_of($t->get_command($id, $cid)), 'done:200', "$enc: the Replace is done (200)");
    };

    scenario "$enc: B) object over the device's MaxObjSize: never sent" => sub {
        my ($d, $id) = new_device($enc, max_msg_size => 4096, max_obj_size => $MiB);
        my $cid = queue($id, { verb => 'Replace', target => './Big/Blob',
            data => Encode::decode('UTF-8', mixed_text(3 * $MiB, 22)) });
        my $small = queue($id, { verb => 'Get', target => './Small' });
        my $r = login($d)->{syncml};
        is_deeply([ map { "$_->{name} " . ($_->{items}[0]{target} // '') } cmds($r) ],
                  [ 'Get ./Small' ], "$enc: the Replace is not sent, the next command is");
        my $c = $t->get_command($id, $cid);
        is(state_of($c), 'failed:413', "$enc: the Replace failed (413)");
        like($c->{reason} // '', qr/MaxObjSize/, "$enc: ... with a reason naming MaxObjSize");
        my $end = send_msg($d, $d->answer($r, tree => { './Small' => 's' }))->{syncml};
        is(shape($end), 'Status(SyncHdr)=200 Final', "$enc: the session ends normally");
        is(state_of($t->get_command($id, $small)), 'done:200', "$enc: the Get is done");
    };

    scenario "$enc: B) a chunk answered 500" => sub {
        my ($d, $id) = new_device($enc, max_msg_size => 4096, max_obj_size => 8 * $MiB);
        my $cid = queue($id, { verb => 'Replace', target => './Big/Fail',
            data => Encode::decode('UTF-8', mixed_text(16_000, 23)) });
        my $after = queue($id, { verb => 'Get', target => './After' });
        my $res = login($d);
        my (@before, @later);
        for my $i (0 .. 50) {
            my $r = $res->{syncml};
            my @c = cmds($r);
            last unless @c;
            my @names = map { "$_->{name} " . ($_->{items}[0]{target} // '') } @c;
            if ($i >= 2) {    # after the 500
                push @later, @names;
                $res = send_msg($d, $d->answer($r, tree => { './After' => 'a' }));
                next;
            }
            push @before, @names;
            die "no second chunk to answer 500: " . shape($r) . "\n"
                unless $names[0] eq 'Replace ./Big/Fail' && $c[0]{items}[0]{more_data};
            $res = send_msg($d, $d->answer($r,
                codes => { './Big/Fail' => $i == 1 ? 500 : 213 }));
        }
        is_deeply(\@before, [ ('Replace ./Big/Fail') x 2 ],
                  "$enc: two chunks, nothing else before the 500");
        is_deeply(\@later, [ 'Get ./After' ],
                  "$enc: after the 500 no more chunks; the next command goes out");
        is(state_of($t->get_command($id, $cid)), 'failed:500', "$enc: the Replace failed (500)");
        is(state_of($t->get_command($id, $after)), 'done:200', "$enc: the Get is done");
    };

    scenario "$enc: B) a command queued after a large one waits for it" => sub {
        my ($d, $id) = new_device($enc, max_msg_size => 4096, max_obj_size => 8 * $MiB);
        my $value = mixed_text(24_000, 24);
        my $cid = queue($id, { verb => 'Replace', target => './Big/First',
                               data => Encode::decode('UTF-8', $value) });
        my $small = queue($id, { verb => 'Get', target => './Small' });
        my $res = login($d);
        my (@seen, $data);
        for my $i (0 .. 50) {
            my $r = $res->{syncml};
            my @c = cmds($r);
            last unless @c;
            my $more = grep { $_->{items}[0]{more_data} } @c;
            push @seen, join ', ', map { "$_->{name} " . ($_->{items}[0]{target} // '')
                . ($_->{items}[0]{more_data} ? ' +' : '') } @c;
            $data .= join '', map { $_->{items}[0]{data} // '' }
                              grep { $_->{name} eq 'Replace' } @c;
            $res = send_msg($d, $d->answer($r, tree => { './Small' => 'small' },
                                          codes => { './Big/First' => $more ? 213 : 200 }));
        }
        my @chunks = grep { /^Replace / } @seen;
        ok(@chunks > 5, "$enc: the Replace went in " . scalar(@chunks) . ' chunks');
        my ($get_at) = grep { $seen[$_] =~ /Get \.\/Small/ } 0 .. $#seen;
        my ($last_at) = grep { $seen[$_] =~ m{^Replace \./Big/First(,|$)} } 0 .. $#seen;
        ok(defined $get_at && defined $last_at && $get_at >= $last_at
           && (grep { /Get/ } @seen) == 1,
           "$enc: the Get goes out once, with or after the last chunk")
            or diag(explain \@seen);
        same_bytes($data, $value, "$enc: the Replace's data intact");
        is(state_of($t->get_command($id, $cid)), 'done:200', "$enc: the Replace is done");
        my $g = $t->get_command($id, $small);
        is(state_of($g), 'done:200', "$enc: the Get is done");
        is_deeply([ map { $_->{data} } @{ $g->{results} || [] } ], [ 'small' ],
                  "$enc: ... with its Result");
    };
}

$t->check_error_log;
note(sprintf 'large_objects.t: %.1fs', time - $t0);
done_testing;
