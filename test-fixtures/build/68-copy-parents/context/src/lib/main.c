lib main
