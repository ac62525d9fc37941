#!/usr/bin/perl
# Multi-message packages (§3.3), end to end through real nginx and
# omadm-backend, in XML and in WBXML: 200 queued commands through a device
# MaxMsgSize of 2048, every server message within it, every command
# delivered once and in order, Final only on a package's last message; a
# device package of three messages answered with Alert 1222 and its Results
# reaching the backend; a command larger than the device's MaxMsgSize
# failing to the backend with a reason; the server's own MaxMsgSize in its
# SyncHdr.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::WBXML;

my $t = OmadmTest->new->start;

sub cmds { OmadmTest::Device::commands($_[0]) }
sub hdr_code { OmadmTest::Device::hdr_status($_[0])->{Data} }

# bytes on the wire (WBXML: as received, before conversion to XML)
sub wire_len { my ($res) = @_; length($res->{raw_content} // $res->{content}) }

sub results {
    my ($n, $msg_ref, $cmd_ref, $uri, $data) = @_;
    return "<Results><CmdID>$n</CmdID><MsgRef>$msg_ref</MsgRef>"
        . "<CmdRef>$cmd_ref</CmdRef><Item><Source><LocURI>$uri</LocURI>"
        . "</Source><Data>$data</Data></Item></Results>";
}

my $devno = 0;
for my $enc (qw(xml wbxml)) {
    # ---- 200 commands through MaxMsgSize 2048 ---------------------------
    my $id = 'IMEI:36000000000' . sprintf('%04d', ++$devno);
    my $d = $t->device(id => $id, user => "u$enc", pass => "p$enc",
                       max_msg_size => 2048);
    $d->{http} = OmadmTest::WBXML::http($d->{http}) if $enc eq 'wbxml';
    my @ids = map {
        $t->queue_command($id, { verb => 'Replace', target => "./Pkg/N$_",
                                 data => "value-$_-" . ('v' x 40) })
    } 1 .. 200;

    $d->post($d->package1(cred => undef));
    my $res = $d->post($d->package1);
    my $r = $res->{syncml};
    is(hdr_code($r), '212', "$enc: authenticated");
    like($res->{content}, qr{<MaxMsgSize[^>]*>1048576</MaxMsgSize>},
         "$enc: the server declares its own MaxMsgSize");
    like($res->{content}, qr{</RespURI><Meta><MaxMsgSize},
         "$enc: ... in SyncHdr Meta after RespURI");
    my (@targets, @over, @bad_final);
    my $messages = 0;
    for (1 .. 400) {
        $messages++;
        push @over, wire_len($res) if wire_len($res) > 2048;
        my @c = cmds($r);
        push @targets, map { $_->{items}[0]{target} } @c;
        last if !@c;
        # Final exactly when nothing of the package is left: the last
        # message before the next backend round has Final, others do not
        my $more = !$r->{final};
        push @bad_final, $r->{hdr}{MsgID} if $more && @targets == 200;
        $res = $d->post($d->ack($r, next => $more));
        $r = $res->{syncml};
        is($res->{status}, 200, "$enc: message $messages answered") or last
            if $res->{status} != 200;
    }
    ok($r->{final}, "$enc: the session's last message has Final");
    is_deeply(\@over, [], "$enc: no server message over 2048 bytes");
    is_deeply(\@bad_final, [], "$enc: Final on every package's last message only");
    ok($messages > 8, "$enc: the 200 commands took many messages ($messages)");
    is_deeply(\@targets, [ map { "./Pkg/N$_" } 1 .. 200 ],
              "$enc: every command delivered once, in order");
    my @states = map { my $c = $t->get_command($id, $_); "$c->{state}:$c->{status}" } @ids;
    is(scalar(grep { $_ eq 'done:200' } @states), 200,
       "$enc: the operator API shows all 200 done with 200");

    # ---- a device package of three messages -----------------------------
    my $gid = $t->queue_command($id, { verb => 'Get', target => './Big/Log' });
    $d->new_session;
    $res = $d->post($d->package1);
    $r = $res->{syncml};
    my ($get) = cmds($r);
    is($get->{name}, 'Get', "$enc: the Get goes out");
    my $m = $r->{hdr}{MsgID};
    $res = $d->post($d->ack({ %$r, cmds => [] }, final => 0,
        extra => results(2, $m, $get->{CmdID}, './Big/Log', 'part-one')));
    $r = $res->{syncml};
    is(hdr_code($r), '200', "$enc: package message 1 accepted");
    is_deeply([ map { $_->{name} . ($_->{Data} ? " $_->{Data}" : '') } cmds($r) ],
              [ 'Alert 1222' ], "$enc: ... answered with Alert 1222 only");
    ok(!$r->{final}, "$enc: ... without Final");
    $res = $d->post($d->ack($r, final => 0,
        extra => results(3, $m, $get->{CmdID}, './Big/Log', 'part-two')));
    $r = $res->{syncml};
    is_deeply([ map { $_->{Data} } cmds($r) ], [ '1222' ], "$enc: message 2: Alert 1222");
    ok(!$r->{final}, "$enc: ... without Final");
    $d->{msg_id}++;
    my $last = $d->_hdr_status($r, 1)
        . "<Status><CmdID>2</CmdID><MsgRef>$m</MsgRef><CmdRef>$get->{CmdID}</CmdRef>"
        . "<Cmd>Get</Cmd><Data>200</Data></Status>"
        . results(3, $m, $get->{CmdID}, './Big/Log', 'part-three');
    $res = $d->post($d->_wrap($d->header, $last));
    $r = $res->{syncml};
    is(hdr_code($r), '200', "$enc: the package's last message accepted");
    ok($r->{final} && !cmds($r), "$enc: ... answered with Final, nothing queued");
    my $gc = $t->get_command($id, $gid);
    is("$gc->{state}:$gc->{status}", 'done:200', "$enc: the Get is done");
    is_deeply([ map { $_->{data} } @{ $gc->{results} } ],
              [ qw(part-one part-two part-three) ],
              "$enc: the Results of all three messages reached the backend");

    # ---- a command larger than the device's MaxMsgSize, not chunkable --
    # (an Exec: only Add and Replace go as large objects, t/large_objects.t)
    my $big = $t->queue_command($id, { verb => 'Exec', target => './Big/Blob',
                                       data => 'z' x 3000 });
    my $small = $t->queue_command($id, { verb => 'Get', target => './Small' });
    $d->new_session;
    $res = $d->post($d->package1);
    $r = $res->{syncml};
    ok(wire_len($res) <= 2048, "$enc: within MaxMsgSize");
    is_deeply([ map { "$_->{name} $_->{items}[0]{target}" } cmds($r) ],
              [ 'Get ./Small' ], "$enc: the oversized command is not sent, the next one is");
    my $bc = $t->get_command($id, $big);
    is("$bc->{state}:$bc->{status}", 'failed:413', "$enc: the oversized command failed (413)");
    like($bc->{reason} // '', qr/too large for the device's MaxMsgSize \(2048 bytes\)/,
         "$enc: ... with its reason in the operator API");
    $res = $d->post($d->ack($r));
    ok($res->{syncml}{final}, "$enc: session over");
    is($t->get_command($id, $small)->{state}, 'done', "$enc: the small command done");
}

$t->check_error_log;
done_testing;
