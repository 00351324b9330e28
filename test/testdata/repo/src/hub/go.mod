module hub

go 1.26
