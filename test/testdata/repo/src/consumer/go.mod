module wget

go 1.26
