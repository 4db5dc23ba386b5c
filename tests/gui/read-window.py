#!/usr/bin/python3
"""Read what a running Wireshark (Qt) window shows, through AT-SPI.

Wireshark must run with QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 on a session
D-Bus where at-spi-bus-launcher runs (gui_start_atspi in gui-lib.sh), and
this script as the same user with the same DBUS_SESSION_BUS_ADDRESS.

  read-window.py [--wait S] headers WINDOW_RE [--table NAME]
      one line per header section, left to right as shown:
      "title<TAB>width" (width in pixels; --where adds "<TAB>x,y", the
      centre of the section on the screen, for xdotool)
  read-window.py [--wait S] rows WINDOW_RE [--table NAME] [--columns N]
      one line per row in display order (expanded rows only, as a tree view
      shows them): "depth<TAB>cell<TAB>cell...", depth 0 for top-level rows;
      --where adds the centre of the row's first cell
  read-window.py [--wait S] widget WINDOW_RE ROLE NAME
      "x,y<TAB>checked|unchecked" for the first widget of that AT-SPI role
      ("check box", "push button", "menu item", ...) and accessible name
  read-window.py [--wait S] press WINDOW_RE ROLE NAME
      does that widget's first action, as a screen reader would: "Press"
      on a menu item triggers it (no need to open the menu first)

WINDOW_RE is a Python regular expression searched in the window titles of
the application "Wireshark". The table is the one whose accessible name is
NAME ("Packet list"), or else the only tree or table on screen in the window.
--wait S retries for S seconds until the window, the table and at least
--min-rows rows (default 1) are there. Exit status 1 with a message on stderr
when they are not.
SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import re
import sys
import time

import pyatspi
from gi.repository import GLib

TABLE_ROLES = {pyatspi.ROLE_TREE, pyatspi.ROLE_TABLE, pyatspi.ROLE_TREE_TABLE}


class NotYet(Exception):
    """What we look for is not (yet) on screen."""


def app_windows():
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is not None and app.name == "Wireshark":
            for win in app:
                if win is not None:
                    yield win


def find_window(title_re):
    pattern = re.compile(title_re)
    names = []
    for win in app_windows():
        names.append(win.name)
        if pattern.search(win.name or ""):
            return win
    raise NotYet("no window matching %r (windows: %s)" % (title_re, names))


def showing(obj):
    return obj.getState().contains(pyatspi.STATE_SHOWING)


def descendants(obj, roles, depth=0):
    """Objects of the given roles (None: any) under obj, not inside tables."""
    for child in obj:
        if child is None:
            continue
        if roles is None or child.getRole() in roles:
            yield child
        if child.getRole() not in TABLE_ROLES and depth < 20:
            yield from descendants(child, roles, depth + 1)


def find_table(win, name):
    tables = [t for t in descendants(win, TABLE_ROLES) if showing(t)]
    if name is not None:
        tables = [t for t in tables if t.name == name]
    if len(tables) != 1:
        raise NotYet("%d tables named %r on screen in %r" % (len(tables), name, win.name))
    return tables[0]


def centre(obj):
    ext = obj.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    return ext, "%d,%d" % (ext.x + ext.width // 2, ext.y + ext.height // 2)


def read_headers(table, where):
    iface = table.queryTable()
    lines = []
    for col in range(iface.nColumns):
        head = iface.getColumnHeader(col)
        ext, mid = centre(head)
        line = "%s\t%d" % (head.name, ext.width)
        lines.append(line + ("\t" + mid if where else ""))
    return lines


def read_rows(table, columns, where, min_rows):
    iface = table.queryTable()
    if iface.nRows < min_rows:
        raise NotYet("%d rows, want at least %d" % (iface.nRows, min_rows))
    ncol = iface.nColumns if columns is None else min(columns, iface.nColumns)
    rows = []
    for row in range(iface.nRows):
        first = iface.getAccessibleAt(row, 0)
        ext, mid = centre(first)
        cells = [first.name] + [iface.getAccessibleAt(row, c).name for c in range(1, ncol)]
        rows.append((ext.x, mid, cells))
    # A tree view indents a row's first cell by its depth: depth is the rank
    # of the cell's left edge among all the left edges.
    lefts = sorted({x for x, _, _ in rows})
    lines = []
    for x, mid, cells in rows:
        line = "\t".join([str(lefts.index(x))] + cells)
        lines.append(line + ("\t" + mid if where else ""))
    return lines


def find_widget(win, role_name, name):
    for obj in descendants(win, None):
        if obj.getRoleName() == role_name and obj.name == name:
            return obj
    raise NotYet("no %s %r in %r" % (role_name, name, win.name))


def read_widget(win, role_name, name):
    obj = find_widget(win, role_name, name)
    _, mid = centre(obj)
    checked = obj.getState().contains(pyatspi.STATE_CHECKED)
    return ["%s\t%s" % (mid, "checked" if checked else "unchecked")]


def press_widget(win, role_name, name):
    action = find_widget(win, role_name, name).queryAction()
    if action.nActions < 1 or not action.doAction(0):
        raise NotYet("%s %r: no action done" % (role_name, name))
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wait", type=float, default=0, help="retry for this many seconds")
    parser.add_argument("--min-rows", type=int, default=1)
    parser.add_argument("--where", action="store_true", help="add screen coordinates")
    parser.add_argument("what", choices=["headers", "rows", "widget", "press"])
    parser.add_argument("window")
    parser.add_argument("role", nargs="?")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--table")
    parser.add_argument("--columns", type=int)
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    while True:
        try:
            win = find_window(args.window)
            if args.what == "widget":
                lines = read_widget(win, args.role, args.name)
            elif args.what == "press":
                lines = press_widget(win, args.role, args.name)
            else:
                table = find_table(win, args.table)
                if args.what == "headers":
                    lines = read_headers(table, args.where)
                else:
                    lines = read_rows(table, args.columns, args.where, args.min_rows)
            break
        except (NotYet, LookupError, GLib.GError) as err:
            # LookupError, GError: an object went away while we read it (a
            # dialog closing, a model reset).
            if time.monotonic() >= deadline:
                print("read-window.py: %s" % err, file=sys.stderr)
                return 1
            time.sleep(0.2)
    if lines:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
